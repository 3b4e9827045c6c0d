/**
 * The artifact pipeline on a host: fetch (sources/), verify (checksum), unpack (extract) and install
 * a release into releasesDir/<version>, switch releasesDir/current atomically, prune old releases.
 */
export type {
  ArtifactSource,
  ExtractLimits,
  InstalledRelease,
  InstallPhase,
  InstallProgress,
  InstallReleaseOptions,
} from './types.js';
export { DEFAULT_FETCH, DEFAULT_LIMITS } from './types.js';
export { formatChecksum, parseChecksum, type Checksum, type ChecksumAlgorithm } from './checksum.js';
export { installRelease } from './install.js';
export { explainMissingRelease, listFileVersions } from './release-unknown.js';
export { activateRelease, currentRelease, listReleases, pruneReleases } from './releases.js';
export { CURRENT_LINK, readReleaseRecord, type ReleaseRecord } from './release-record.js';
export { RELEASE_RECORD } from './archive-plan.js';
export { fetchText } from './sources/index.js';
export { artifactSource } from './app-source.js';
