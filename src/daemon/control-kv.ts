import { rmSync } from 'node:fs';
import path from 'node:path';
import { DESIRED_FILE } from '../agent/link/desired-file.js';
import { PENDING_PREFIX } from '../releases/intake.js';
import { QUEUE_PREFIX } from '../server/locks/deploy-queue.js';
import type { KvStore } from '../store/kv/kv.js';
import { openSqliteKvStore } from '../store/kv/sqlite-kv.js';
import { openKvStore } from '../store/kv/open.js';
import type { DaemonPaths } from './paths.js';

/**
 * The control plane's key-value store of `ferry up` (the hosts' desired states), in the data
 * directory. A new one (revision 0) makes the embedded agent's kept desired state meaningless: its
 * revision belongs to a store that is gone, and a newer store's documents would look older than it.
 * It is dropped, and the agent takes the new store's from the start.
 */
export async function openControlKv(paths: DaemonPaths, url: string | null = null): Promise<KvStore> {
  // etcd (`server.store`): shared by the servers of a fleet, under the URL's prefix.
  if (url !== null) return openKvStore(url, { where: 'server.store' });
  const kv = await openSqliteKvStore(paths.kv);
  if ((await kv.revision()) === 0) forgetKeptDesiredState(paths);
  return kv;
}

/**
 * `ferry up --reset`: the hosts' desired states go with the rest, and so does the agent's copy; so
 * do the deploys queued behind locks and the releases waiting in the intake (asked of a state that is
 * gone). Locks stay: an operator's freeze holds through a reset, and ends by itself; so do the release
 * catalog and the webhooks' delivery ids (a replay stays a replay).
 */
export async function resetControlKv(kv: KvStore, paths: DaemonPaths): Promise<void> {
  await kv.txn({
    compare: [],
    success: [
      { type: 'delete-prefix', prefix: '/hosts/' },
      { type: 'delete-prefix', prefix: QUEUE_PREFIX },
      { type: 'delete-prefix', prefix: PENDING_PREFIX },
    ],
  });
  forgetKeptDesiredState(paths);
}

function forgetKeptDesiredState(paths: DaemonPaths): void {
  rmSync(path.join(paths.agentDir, DESIRED_FILE), { force: true });
}
