/**
 * Where the control plane's records live in a KvStore. Every segment that comes from outside (app,
 * env, version, deployment id, lock key) is encodeURIComponent-ed, so a `/` in a name never makes a
 * second level and `__proto__` or `constructor` are ordinary keys.
 */

const seg = encodeURIComponent;

/** Sequence numbers and inverted times are zero-padded so key order is numeric order. */
const PAD = 16;

export const DEPLOYMENTS_PREFIX = '/deployments/';
export const APP_DEPLOYMENTS_PREFIX = '/app-deployments/';
export const AUDIT_PREFIX = '/audit/';

/** Every top-level prefix these records use: none may be another collection's in the same KV. */
export const RECORD_PREFIXES = [
  '/ledger/',
  DEPLOYMENTS_PREFIX,
  APP_DEPLOYMENTS_PREFIX,
  '/active/',
  '/served/',
  '/event-seq/',
  '/events/',
  '/current/',
  '/store-locks/',
  AUDIT_PREFIX,
  '/records-meta/',
] as const;

/** Set once every deployment stored before the app index existed is in it (KvRecordsStore). */
export const APP_INDEX_DONE_KEY = '/records-meta/app-index';

/** Written with the last batch of records carried over from the SQLite tables (migrate-sqlite.ts). */
export const SQLITE_MIGRATED_KEY = '/records-meta/sqlite-records';

export const ledgerPrefix = (app: string, env: string): string => `/ledger/${seg(app)}/${seg(env)}/`;
export const ledgerKey = (app: string, env: string, version: string): string =>
  `${ledgerPrefix(app, env)}${seg(version)}`;

export const deploymentKey = (id: string): string => `${DEPLOYMENTS_PREFIX}${seg(id)}`;
/**
 * The index of one app's deployments (of one env when given), so that an app's history reads only
 * its own: `<prefix><inverted createdAt>/<id>`, newest first in key order; the value is the id.
 */
export const appDeploymentsPrefix = (app: string, env?: string): string =>
  `${APP_DEPLOYMENTS_PREFIX}${seg(app)}/${env === undefined ? '' : `${seg(env)}/`}`;
export const appDeploymentKey = (app: string, env: string, createdAt: number, id: string): string =>
  `${appDeploymentsPrefix(app, env)}${invertedTime(createdAt)}/${seg(id)}`;

/** The one non-final deployment of app+env: its value is that deployment's id. */
export const activeKey = (app: string, env: string): string => `/active/${seg(app)}/${seg(env)}`;
export const servedReportKey = (id: string): string => `/served/${seg(id)}`;

/** The last seq given to a deployment's events. */
export const eventSeqKey = (id: string): string => `/event-seq/${seg(id)}`;
export const eventsPrefix = (id: string): string => `/events/${seg(id)}/`;
export const eventKey = (id: string, seq: number): string =>
  `${eventsPrefix(id)}${String(seq).padStart(PAD, '0')}`;

export const currentKey = (app: string, env: string): string => `/current/${seg(app)}/${seg(env)}`;
/** Not `/locks/`: that is the server's locks on leases (src/server/locks), watched by its LockKeeper. */
export const lockKey = (key: string): string => `/store-locks/${seg(key)}`;

/**
 * Audit entries sort newest first in key order: the time is inverted (MAX_SAFE_INTEGER - at), so a
 * bounded range from the start reads the newest. Entries of one time are told apart by a unique
 * suffix and ordered by their create revision (insertion order).
 */
export const auditTimePrefix = (at: number): string => `${AUDIT_PREFIX}${invertedTime(at)}/`;

/** A time whose key order is newest first. */
function invertedTime(at: number): string {
  return String(Number.MAX_SAFE_INTEGER - Math.max(0, Math.floor(at))).padStart(PAD, '0');
}
