import type { DeploymentState } from '../../engine/types.js';
import { upgradeDeploymentState } from '../../engine/create.js';
import type {
  AuditEntry,
  DeploymentEvent,
  InstanceExit,
  InstanceRecord,
  InstanceState,
  LockRecord,
  ReleaseRecord,
  ReleaseStatus,
} from '../store.js';

/** Rows as SQLite returns them (snake_case, JSON as text), and their mapping to the store's records. */

export interface ReleaseRow {
  app: string;
  env: string;
  version: string;
  artifact_url: string;
  checksum: string | null;
  status: string;
  reason: string | null;
  good_at: number | null;
  created_at: number;
  updated_at: number;
}

export interface StateRow {
  state: string;
}

export interface EventRow {
  deployment_id: string;
  seq: number;
  at: number;
  type: string;
  message: string;
  data: string | null;
}

export interface InstanceRow {
  id: string;
  app: string;
  env: string;
  version: string;
  port: number;
  pid: number | null;
  pid_start: number | null;
  state: string;
  restarts: number;
  created_at: number;
  updated_at: number;
  /** JSON of InstanceExit, or null. */
  last_exit: string | null;
}

export interface LockRow {
  key: string;
  owner: string;
  reason: string;
  expires_at: number | null;
  created_at: number;
}

export interface AuditRow {
  at: number;
  actor: string;
  action: string;
  target: string;
  detail: string | null;
}

export function toRelease(row: ReleaseRow): ReleaseRecord {
  return {
    app: row.app,
    env: row.env,
    version: row.version,
    artifactUrl: row.artifact_url,
    checksum: row.checksum,
    // The CHECK constraint on the column admits only the ledger's statuses.
    status: row.status as ReleaseStatus,
    reason: row.reason,
    goodAt: row.good_at,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

/** The state column holds the whole DeploymentState; the other columns only index it. */
export function toDeployment(row: StateRow): DeploymentState {
  // A state written by an older Ferry lacks the fields added since: they get their neutral values.
  return upgradeDeploymentState(JSON.parse(row.state) as DeploymentState);
}

/** The deployment's indexed columns plus its state as JSON, as the insert and update statements bind them. */
export function deploymentParams(state: DeploymentState): DeploymentParams {
  return {
    id: state.id,
    app: state.app,
    env: state.env,
    kind: state.kind,
    from_version: state.from,
    to_version: state.to,
    status: state.status,
    phase: state.phase,
    state: JSON.stringify(state),
    created_at: state.createdAt,
    updated_at: state.updatedAt,
  };
}

export type DeploymentParams = Record<
  'id' | 'app' | 'env' | 'kind' | 'to_version' | 'status' | 'phase' | 'state',
  string
> & { from_version: string | null; created_at: number; updated_at: number };

export function toEvent(row: EventRow): DeploymentEvent {
  const event = {
    deploymentId: row.deployment_id,
    seq: row.seq,
    at: row.at,
    type: row.type,
    message: row.message,
  };
  return row.data === null ? event : { ...event, data: JSON.parse(row.data) as Record<string, unknown> };
}

export function toInstance(row: InstanceRow): InstanceRecord {
  return {
    id: row.id,
    app: row.app,
    env: row.env,
    version: row.version,
    port: row.port,
    pid: row.pid,
    pidStart: row.pid_start,
    state: row.state as InstanceState,
    restarts: row.restarts,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    ...(row.last_exit === null ? {} : { lastExit: JSON.parse(row.last_exit) as InstanceExit }),
  };
}

export function instanceParams(instance: InstanceRecord): InstanceRow {
  return {
    id: instance.id,
    app: instance.app,
    env: instance.env,
    version: instance.version,
    port: instance.port,
    pid: instance.pid,
    pid_start: instance.pidStart,
    state: instance.state,
    restarts: instance.restarts,
    created_at: instance.createdAt,
    updated_at: instance.updatedAt,
    last_exit: instance.lastExit ? JSON.stringify(instance.lastExit) : null,
  };
}

export function toLock(row: LockRow): LockRecord {
  return {
    key: row.key,
    owner: row.owner,
    reason: row.reason,
    expiresAt: row.expires_at,
    createdAt: row.created_at,
  };
}

export function toAudit(row: AuditRow): AuditEntry {
  const entry = { at: row.at, actor: row.actor, action: row.action, target: row.target };
  return row.detail === null
    ? entry
    : { ...entry, detail: JSON.parse(row.detail) as Record<string, unknown> };
}

/** JSON text for an optional data column; absent stays NULL so it reads back absent. */
export function jsonOrNull(value: Readonly<Record<string, unknown>> | undefined): string | null {
  return value === undefined ? null : JSON.stringify(value);
}
