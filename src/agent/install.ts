import {
  artifactSource,
  explainMissingRelease,
  installRelease,
  type InstalledRelease,
} from '../artifacts/index.js';
import type { FerryConfig } from '../config/types.js';
import { sameOrigin } from '../lib/same-origin.js';
import type { AppHost } from './app-host.js';
import type { Installer } from './installer/installer.js';

/** Where a release comes from when not from the app's configured artifact (a release recorded by hand). */
export interface ReleaseOverride {
  readonly url: string;
  readonly checksum: string | null;
  /** Sent to the URL's origin (a watcher's credentials); none: see installOnHost. */
  readonly headers?: Readonly<Record<string, string>>;
}

/**
 * Fetches, verifies and unpacks one release of the app into its host's releases/<version>, with the
 * app's artifact settings as the host runs it (limits, checksum policy, retries, pacing) and the
 * host's download cache. An unknown version is explained (FERRY_E_RELEASE_UNKNOWN, with the versions
 * found for a file source). The one install path of `ferry up` and `ferry agent` (whose installs
 * run in a process of their own: `install`).
 */
export async function installOnHost(
  host: AppHost,
  version: string,
  override: ReleaseOverride | null,
  cache: FerryConfig['artifacts'],
  install: Installer = installRelease,
): Promise<{ installed: InstalledRelease; url: string; cacheAsked: boolean }> {
  const { artifact } = host.app;
  const configured = artifactSource(artifact, version);
  // The app's artifact headers are credentials for where its artifact.url points: a release's own
  // URL elsewhere (a webhook may name any) never gets them.
  const source = override
    ? {
        url: override.url,
        checksum: override.checksum,
        checksumsUrl: null,
        headers: override.headers
          ? { ...override.headers }
          : sameOrigin(override.url, configured.url)
            ? configured.headers
            : {},
      }
    : configured;
  // A file:// artifact is on this host already: a cached copy would only double the disk it takes.
  const { cacheDir, cacheMaxBytes } = cache;
  const cacheAsked = cacheDir !== null && !source.url.startsWith('file:');
  const installed = await install({
    releasesDir: host.releasesDir,
    version,
    source,
    limits: artifact.limits,
    requireChecksum: artifact.requireChecksum,
    allowWeakChecksums: artifact.allowWeakChecksums,
    timeoutMs: artifact.timeoutMs,
    retries: artifact.retries,
    retryWaitMs: artifact.retryWaitMs,
    randomDelayMs: artifact.randomDelayMs,
    ...(artifact.maxBytesPerSecond !== null ? { maxBytesPerSecond: artifact.maxBytesPerSecond } : {}),
    ...(cacheAsked ? { cacheDir, cacheMaxBytes } : {}),
  }).catch(async (error: unknown) => {
    const templates = { url: artifact.url, checksumsUrl: artifact.checksumsUrl };
    throw await explainMissingRelease(error, {
      app: host.appName,
      env: host.envName,
      version,
      templates,
      source,
    });
  });
  return { installed, url: source.url, cacheAsked };
}
