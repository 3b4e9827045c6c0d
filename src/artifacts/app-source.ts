import type { ArtifactSource } from './types.js';
import type { ArtifactConfig } from '../config/types.js';

/** The artifact of one version: {version} in the URLs is replaced (URL-encoded). */
export function artifactSource(artifact: ArtifactConfig, version: string): ArtifactSource {
  const fill = (url: string) => url.replaceAll('{version}', encodeURIComponent(version));
  return {
    url: fill(artifact.url),
    checksum: artifact.checksum ? fill(artifact.checksum) : null,
    checksumsUrl: artifact.checksumsUrl ? fill(artifact.checksumsUrl) : null,
    headers: { ...artifact.headers },
  };
}
