import type { Clock } from '../../lib/clock.js';
import type { KvStore } from './kv.js';
import { openSqliteKvStore } from './sqlite-kv.js';
import { parseStoreUrl } from './store-url.js';

export interface OpenKvStoreOptions {
  /** The flag or setting the URL came from, for errors (default '--store'). */
  readonly where?: string;
  /** Lease expiry (SQLite) and watch reconnection (etcd); the system clock by default. */
  readonly clock?: Clock;
  /** SQLite: how many revisions of history watches can replay (default 10,000). */
  readonly historyRevisions?: number;
  /** etcd: how long a call may take before it fails with FERRY_E_STORE_UNREACHABLE (default 5 s). */
  readonly timeoutMs?: number;
}

/**
 * Opens the key-value store a store URL names (see parseStoreUrl): `sqlite:/path/file.db` or a
 * plain path for the embedded store, `etcd://host:port[,host:port...][/prefix]` for etcd. A bad
 * URL fails with FERRY_E_USAGE; an etcd that does not answer with FERRY_E_STORE_UNREACHABLE.
 */
export async function openKvStore(url: string, options: OpenKvStoreOptions = {}): Promise<KvStore> {
  const location = parseStoreUrl(url, options.where);
  const { clock, historyRevisions, timeoutMs } = options;
  if (location.driver === 'sqlite') return openSqliteKvStore(location.path, { clock, historyRevisions });
  const { endpoints, prefix, auth } = location;
  // Loaded only for etcd: the embedded store's daemon never loads the gRPC client (its memory).
  const { openEtcdKvStore } = await import('./etcd-kv.js');
  return openEtcdKvStore({ endpoints, prefix, auth, clock, timeoutMs });
}
