import type { CatalogEntry, ReleaseCandidate, Releases } from './release.js';

/**
 * Records a release in the catalog without deploying it anywhere (`ferry release add --no-deploy`,
 * the API's `deploy: false`). Same refusals as the intake's offer: a second record of a version with
 * another artifact or checksum is FERRY_E_RELEASE_CONFLICT.
 */
export interface ReleaseRecorder {
  record(candidate: ReleaseCandidate): Promise<CatalogEntry>;
}

/** What the daemon's API holds of releases: the intake, the catalog, and recording without deploying. */
export type ReleasesControl = Releases & ReleaseRecorder;
