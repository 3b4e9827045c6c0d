import type { InstalledRelease, InstallReleaseOptions } from '../../artifacts/index.js';

/** What an install is given: plain data, so that it can be handed to another process. */
export type InstallRequest = Omit<InstallReleaseOptions, 'signal' | 'onProgress' | 'beforeUnpack'>;

/**
 * Fetches, verifies and unpacks a release (installRelease's contract): in this process (`ferry up`),
 * or in a process of its own for each install (`ferry agent`, childInstaller).
 */
export type Installer = (request: InstallRequest) => Promise<InstalledRelease>;
