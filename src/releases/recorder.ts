import type { CatalogEntry, ReleaseCandidate, Releases, Trigger } from './release.js';

/**
 * Records a release in the catalog without deploying it anywhere (`ferry release add --no-deploy`,
 * the API's `deploy: false`). Same refusals as the intake's offer: a second record of a version with
 * another artifact or checksum is FERRY_E_RELEASE_CONFLICT.
 */
export interface ReleaseRecorder {
  record(candidate: ReleaseCandidate): Promise<CatalogEntry>;
}

/** A release the intake keeps waiting in an environment: a window, a debounce, a deploy refused. */
export interface WaitingReleaseView {
  readonly app: string;
  readonly env: string;
  readonly version: string;
  readonly trigger: Trigger;
  /** When the last release of its burst arrived (ms). */
  readonly since: number;
  readonly reason: string | null;
  /** When it is decided again (ms); null when unknown. */
  readonly until: number | null;
}

/**
 * What the daemon's API holds of releases: the intake, the catalog, recording without deploying,
 * and the releases waiting to deploy.
 */
export type ReleasesControl = Releases &
  ReleaseRecorder & { waiting(): Promise<readonly WaitingReleaseView[]> };
