import { FINAL_STATUSES } from '../../engine/types.js';
import type { KvOp, KvStore } from '../kv/kv.js';
import type { AllRecords } from '../sqlite/all-records.js';
import * as keys from './keys.js';

/** How many writes one transaction carries: under etcd's default limit of 128 operations. */
const OPS_PER_TXN = 100;

/** What moved from the SQLite tables into the key-value store. */
export interface MigratedRecords {
  readonly releases: number;
  readonly deployments: number;
  readonly events: number;
  readonly servedReports: number;
  readonly current: number;
  readonly locks: number;
  readonly audit: number;
}

/** The total of a migration's counts. */
export function migratedTotal(moved: MigratedRecords): number {
  const { releases, deployments, events, servedReports, current, locks, audit } = moved;
  return releases + deployments + events + servedReports + current + locks + audit;
}

/** The SQLite store the records come from (SqliteStore). */
export interface RecordsSource {
  allRecords(): Promise<AllRecords>;
  recordsMoved(): Promise<boolean>;
  markRecordsMoved(at: number): Promise<void>;
}

/**
 * Carries the control plane's records of a SQLite store (the tables of Ferry before its records
 * moved to the key-value store) into `kv`, once: null when they were already carried. Every write
 * puts the value the records have, so a copy cut short (a crash) is simply done again on the next
 * start; the marker key goes in the last transaction, and only then are the records the KV's. The
 * SQLite file is then marked too, so that a key-value store lost later is a lost store (refused
 * without --adopt or --reset), not one filled again with the old records.
 *
 * Insertion order, which orders records of one time, is a key's create revision in a KvStore: a
 * record tied with earlier ones (same time, same list) is written in a later transaction than they.
 */
export async function migrateSqliteRecords(
  kv: KvStore,
  source: RecordsSource,
  now: number,
): Promise<MigratedRecords | null> {
  if (await source.recordsMoved()) return null;
  const moved = (await kv.get(keys.SQLITE_MIGRATED_KEY)) === undefined ? await copy(kv, source) : null;
  await source.markRecordsMoved(now);
  return moved;
}

async function copy(kv: KvStore, source: RecordsSource): Promise<MigratedRecords> {
  const records = await source.allRecords();
  const rounds = new Rounds();
  for (const release of records.releases) {
    const { app, env, version, createdAt } = release;
    rounds.add(`release ${JSON.stringify([app, env, createdAt])}`, [
      put(keys.ledgerKey(app, env, version), JSON.stringify(release)),
    ]);
  }
  let events = 0;
  let servedReports = 0;
  for (const { state, events: logged, servedReport } of records.deployments) {
    const { id, app, env, createdAt } = state;
    const ops = [
      put(keys.deploymentKey(id), JSON.stringify(state)),
      put(keys.appDeploymentKey(app, env, createdAt, id), id),
    ];
    if (!FINAL_STATUSES.has(state.status)) ops.push(put(keys.activeKey(app, env), id));
    if (servedReport !== undefined) {
      ops.push(put(keys.servedReportKey(id), JSON.stringify(servedReport)));
      servedReports++;
    }
    const last = logged.at(-1);
    if (last !== undefined) ops.push(put(keys.eventSeqKey(id), String(last.seq)));
    for (const event of logged) ops.push(put(keys.eventKey(id, event.seq), JSON.stringify(event)));
    events += logged.length;
    rounds.add(`deployment ${createdAt}`, ops);
  }
  for (const { app, env, version } of records.current)
    rounds.add('', [put(keys.currentKey(app, env), version)]);
  for (const lock of records.locks) rounds.add('', [put(keys.lockKey(lock.key), JSON.stringify(lock))]);
  records.audit.forEach((entry, i) => {
    // A suffix of its own: a second copy of an entry lands on the same key.
    const key = `${keys.auditTimePrefix(entry.at)}sqlite-${String(i).padStart(12, '0')}`;
    rounds.add(`audit ${entry.at}`, [put(key, JSON.stringify(entry))]);
  });

  const moved: MigratedRecords = {
    releases: records.releases.length,
    deployments: records.deployments.length,
    events,
    servedReports,
    current: records.current.length,
    locks: records.locks.length,
    audit: records.audit.length,
  };
  const batches = rounds.batches();
  const marker = put(keys.SQLITE_MIGRATED_KEY, JSON.stringify(moved));
  const last = batches.at(-1);
  if (last === undefined || last.length >= OPS_PER_TXN) batches.push([marker]);
  else last.push(marker);
  for (const success of batches) await kv.txn({ compare: [], success });
  return moved;
}

function put(key: string, value: string): KvOp {
  return { type: 'put', key, value };
}

/**
 * Writes grouped so that records of one tie (same key) fall in successive rounds, in their order:
 * the n-th record of a tie is in round n, and each round is written after the one before.
 */
class Rounds {
  readonly #seen = new Map<string, number>();
  readonly #rounds: KvOp[][] = [];

  /** `tie` '' for records no list orders by time. */
  add(tie: string, ops: readonly KvOp[]): void {
    const round = tie === '' ? 0 : (this.#seen.get(tie) ?? 0);
    if (tie !== '') this.#seen.set(tie, round + 1);
    (this.#rounds[round] ??= []).push(...ops);
  }

  /** The transactions, in order; none spans two rounds. */
  batches(): KvOp[][] {
    const batches: KvOp[][] = [];
    for (const ops of this.#rounds) {
      for (let i = 0; i < ops.length; i += OPS_PER_TXN) batches.push(ops.slice(i, i + OPS_PER_TXN));
    }
    return batches;
  }
}
