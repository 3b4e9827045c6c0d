import type { ArtifactSource } from '../artifacts/index.js';
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

/** A version names a directory and a URL part: keep it to a safe alphabet. */
export function isValidVersion(version: string): boolean {
  return /^[A-Za-z0-9][A-Za-z0-9._+-]{0,63}$/.test(version) && !version.includes('..');
}
