import type { ServedReportRecord } from '../engine/served-report.js';
import type { DeploymentState, ReleaseVerdict } from '../engine/types.js';

/**
 * The control plane's state store: the release ledger, deployments with their event logs, locks and
 * the audit trail (host-local records are an InstanceStore's). One interface, several drivers (SQLite embedded; etcd for HA later), one contract test
 * suite (contract.ts) that every driver passes. Methods are async so that networked drivers fit.
 */
export interface Store {
  // --- release ledger ---------------------------------------------------------------------------
  /** Records a release the first time it is seen; later calls update artifact/checksum only. */
  upsertRelease(release: NewRelease): Promise<ReleaseRecord>;
  getRelease(app: string, env: string, version: string): Promise<ReleaseRecord | undefined>;
  /** Newest first (by createdAt, then insertion order). */
  listReleases(app: string, env: string): Promise<ReleaseRecord[]>;
  /**
   * Marks a release good, bad or rolled-back; `good` also stamps goodAt (used to find the last good
   * release), the others keep it.
   */
  markRelease(
    app: string,
    env: string,
    version: string,
    verdict: Verdict,
    reason: string,
    at: number,
  ): Promise<void>;

  // --- deployments ------------------------------------------------------------------------------
  /**
   * Persists a new deployment. Throws FerryError FERRY_E_DEPLOYMENT_IN_PROGRESS when another
   * deployment of the same app and environment is not final: at most one active deployment each.
   */
  createDeployment(state: DeploymentState): Promise<void>;
  /** Persists a state the engine produced; must be called before its effects run. */
  saveDeployment(state: DeploymentState): Promise<void>;
  getDeployment(id: string): Promise<DeploymentState | undefined>;
  /**
   * Persists a deployment's served-request report (written by the runtime as the deployment runs,
   * kept with it for ever). Throws FERRY_E_DEPLOYMENT_UNKNOWN for a deployment never created.
   */
  saveServedReport(id: string, record: ServedReportRecord): Promise<void>;
  /** The deployment's report as last saved; undefined when none was (or no such deployment). */
  getServedReport(id: string): Promise<ServedReportRecord | undefined>;
  /** The one non-final deployment of app+env, if any. */
  activeDeployment(app: string, env: string): Promise<DeploymentState | undefined>;
  /** Every non-final deployment (for crash recovery). */
  activeDeployments(): Promise<DeploymentState[]>;
  /** Newest first. */
  listDeployments(filter: { app?: string; env?: string; limit?: number }): Promise<DeploymentState[]>;
  appendEvent(event: NewDeploymentEvent): Promise<DeploymentEvent>;
  /** Events in order; `afterSeq` returns only later ones (for streaming). */
  listEvents(deploymentId: string, afterSeq?: number): Promise<DeploymentEvent[]>;

  // --- app state --------------------------------------------------------------------------------
  /** Which release serves an app in an environment (after the last finished deployment). */
  getCurrent(app: string, env: string): Promise<string | undefined>;
  setCurrent(app: string, env: string, version: string): Promise<void>;

  // --- locks ------------------------------------------------------------------------------------
  /** Takes a named lock if free, expired or already held by `owner`; false when someone else holds it. */
  acquireLock(lock: LockRecord): Promise<boolean>;
  releaseLock(key: string, owner: string): Promise<void>;
  getLock(key: string, now: number): Promise<LockRecord | undefined>;

  // --- audit ------------------------------------------------------------------------------------
  audit(entry: AuditEntry): Promise<void>;
  listAudit(limit: number): Promise<AuditEntry[]>;

  close(): Promise<void>;
}

/**
 * Host-local records: the instances one host runs, with their pids and process start times. The
 * agent of that host keeps them (they let it re-adopt its processes after a restart, with or
 * without the control plane); the control plane never reads them, it reads the host's reports.
 * `ferry up` keeps them in its SQLite file beside the control plane's records; `ferry agent` in a
 * file of its own.
 */
export interface InstanceStore {
  /** Inserts or replaces an instance by id. Persist before spawning, again once the pid is known. */
  putInstance(instance: InstanceRecord): Promise<void>;
  getInstance(id: string): Promise<InstanceRecord | undefined>;
  listInstances(filter?: { app?: string; env?: string; version?: string }): Promise<InstanceRecord[]>;
  deleteInstance(id: string): Promise<void>;
}

/** The ledger's verdicts (the engine's ReleaseVerdict); see src/engine/types.ts. */
export type Verdict = ReleaseVerdict;
/** A release is new until a deployment (or a rollback leaving it) gives it a verdict. */
export const RELEASE_STATUSES = ['new', 'good', 'bad', 'rolled-back'] as const satisfies readonly (
  'new' | Verdict
)[];
export type ReleaseStatus = (typeof RELEASE_STATUSES)[number];

export interface NewRelease {
  readonly app: string;
  readonly env: string;
  readonly version: string;
  readonly artifactUrl: string;
  readonly checksum: string | null;
  readonly createdAt: number;
}

export interface ReleaseRecord extends NewRelease {
  readonly status: ReleaseStatus;
  readonly reason: string | null;
  /** When the release last became good; null if never. */
  readonly goodAt: number | null;
  readonly updatedAt: number;
}

export interface NewDeploymentEvent {
  readonly deploymentId: string;
  readonly at: number;
  /** A short kind: 'phase', 'record', 'command', 'failure', 'effect'. */
  readonly type: string;
  readonly message: string;
  readonly data?: Readonly<Record<string, unknown>>;
}

export interface DeploymentEvent extends NewDeploymentEvent {
  /** 1, 2, 3... per deployment. */
  readonly seq: number;
}

/** An instance's lifecycle as recorded. */
export const INSTANCE_STATES = [
  'starting',
  'running',
  'stopping',
  'stopped',
  'crashed',
  'crash-loop',
] as const;
export type InstanceState = (typeof INSTANCE_STATES)[number];

export interface InstanceRecord {
  readonly id: string;
  readonly app: string;
  readonly env: string;
  readonly version: string;
  readonly port: number;
  /** null between "about to spawn" and "spawned". */
  readonly pid: number | null;
  /** The process start time from /proc/<pid>/stat, so a reused pid is never mistaken for ours. */
  readonly pidStart: number | null;
  readonly state: InstanceState;
  readonly restarts: number;
  readonly createdAt: number;
  readonly updatedAt: number;
  /** How its process last ended, if it ever did (absent when it never exited). */
  readonly lastExit?: InstanceExit | null;
}

/**
 * How an instance's process ended: its exit code or the signal that ended it. Both null for an
 * adopted process (not the daemon's child): only its parent could see its status.
 */
export interface InstanceExit {
  readonly code: number | null;
  readonly signal: string | null;
  /** ms since the epoch */
  readonly at: number;
}

export interface LockRecord {
  readonly key: string;
  readonly owner: string;
  readonly reason: string;
  /** ms since epoch; null = until released. */
  readonly expiresAt: number | null;
  readonly createdAt: number;
}

export interface AuditEntry {
  readonly at: number;
  /** Who: 'cli', 'api', 'engine', a token name. */
  readonly actor: string;
  readonly action: string;
  readonly target: string;
  readonly detail?: Readonly<Record<string, unknown>>;
}
