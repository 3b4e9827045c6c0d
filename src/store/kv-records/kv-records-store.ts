import { randomUUID } from 'node:crypto';
import type { ServedReportRecord } from '../../engine/served-report.js';
import { type DeploymentState, FINAL_STATUSES } from '../../engine/types.js';
import { FerryError } from '../../errors/ferry-error.js';
import type { KvCompare, KvEntry, KvOp, KvStore } from '../kv/kv.js';
import { deploymentInProgress, duplicateDeployment, unknownDeployment } from '../sqlite/errors.js';
import type {
  AuditEntry,
  DeploymentEvent,
  LockRecord,
  NewDeploymentEvent,
  NewRelease,
  ReleaseRecord,
  Store,
  Verdict,
} from '../store.js';
import * as keys from './keys.js';

/**
 * How many times a compare-and-swap is retried after another writer moved its keys in between. Each
 * retry means someone else's write succeeded, so the store as a whole always progresses; the bound
 * only keeps one caller from spinning for ever under extreme contention.
 */
const MAX_ATTEMPTS = 1_000;

/** A compare that holds when `entry` is still what was read (absent: still absent). */
function unchanged(key: string, entry: KvEntry | undefined): KvCompare {
  return { key, modRevision: entry?.modRevision ?? 0 };
}

function parse<T>(entry: KvEntry): T {
  return JSON.parse(entry.value) as T;
}

const isActive = (state: DeploymentState): boolean => !FINAL_STATUSES.has(state.status);

/** Where the deployment is in its app's index (keys.ts). */
const indexKey = (state: DeploymentState): string =>
  keys.appDeploymentKey(state.app, state.env, state.createdAt, state.id);

/** Newest first by `time`, then by insertion order (the key's create revision), as SQLite's ORDER BY. */
function newestFirst<T>(entries: readonly KvEntry[], time: (record: T) => number): T[] {
  return entries
    .map((entry) => ({ record: parse<T>(entry), rev: entry.createRevision }))
    .sort((a, b) => time(b.record) - time(a.record) || b.rev - a.rev)
    .map(({ record }) => record);
}

/**
 * The control plane's Store over any KvStore (SQLite embedded, or etcd shared by servers): each
 * record is one key (see keys.ts and docs/store.md), and every rule that SQLite keeps with a
 * constraint or a transaction is a KV transaction comparing the revisions of the keys it read.
 * Insertion order (for equal times) is a key's create revision, which only its first put sets.
 */
export class KvRecordsStore implements Store {
  readonly #kv: KvStore;
  readonly #closeKv: boolean;
  #closed = false;
  /** The index of earlier deployments, made once before its first read (#indexEarlierDeployments). */
  #indexed: Promise<void> | null = null;

  /** `closeKv: false` leaves the KV open on close(), for a KV the caller shares with others. */
  constructor(kv: KvStore, options: { closeKv?: boolean } = {}) {
    this.#kv = kv;
    this.#closeKv = options.closeKv ?? true;
  }

  // --- release ledger ---------------------------------------------------------------------------

  upsertRelease(release: NewRelease): Promise<ReleaseRecord> {
    const key = keys.ledgerKey(release.app, release.env, release.version);
    return this.#update('upsertRelease', key, (entry) => {
      const { app, env, version, artifactUrl, checksum, createdAt } = release;
      if (entry === undefined) {
        return {
          app,
          env,
          version,
          artifactUrl,
          checksum,
          createdAt,
          status: 'new',
          reason: null,
          goodAt: null,
          updatedAt: createdAt,
        };
      }
      const old = parse<ReleaseRecord>(entry);
      const changed = old.artifactUrl !== artifactUrl || old.checksum !== checksum;
      return { ...old, artifactUrl, checksum, updatedAt: changed ? createdAt : old.updatedAt };
    });
  }

  async getRelease(app: string, env: string, version: string): Promise<ReleaseRecord | undefined> {
    const entry = await this.#get('getRelease', keys.ledgerKey(app, env, version));
    return entry && parse<ReleaseRecord>(entry);
  }

  async listReleases(app: string, env: string): Promise<ReleaseRecord[]> {
    const { entries } = await this.#range('listReleases', keys.ledgerPrefix(app, env));
    return newestFirst<ReleaseRecord>(entries, (r) => r.createdAt);
  }

  async markRelease(
    app: string,
    env: string,
    version: string,
    verdict: Verdict,
    reason: string,
    at: number,
  ): Promise<void> {
    await this.#update('markRelease', keys.ledgerKey(app, env, version), (entry) => {
      if (entry === undefined) {
        throw new FerryError(
          'FERRY_E_RELEASE_UNKNOWN',
          `cannot mark ${app} ${version} in ${env} ${verdict}: no such release`,
          {
            where: `${app}/${env}`,
            got: version,
          },
        );
      }
      const old = parse<ReleaseRecord>(entry);
      return { ...old, status: verdict, reason, updatedAt: at, goodAt: verdict === 'good' ? at : old.goodAt };
    });
  }

  // --- deployments ------------------------------------------------------------------------------

  async createDeployment(state: DeploymentState): Promise<void> {
    this.#assertOpen('createDeployment');
    const key = keys.deploymentKey(state.id);
    const active = keys.activeKey(state.app, state.env);
    const compare: KvCompare[] = [{ key, modRevision: 0 }];
    const success: KvOp[] = [
      { type: 'put', key, value: JSON.stringify(state) },
      { type: 'put', key: indexKey(state), value: state.id },
    ];
    if (isActive(state)) {
      compare.push({ key: active, modRevision: 0 });
      success.push({ type: 'put', key: active, value: state.id });
    }
    const { succeeded } = await this.#kv.txn({ compare, success });
    if (succeeded) return;
    if ((await this.#kv.get(key)) !== undefined) throw duplicateDeployment(state.id);
    throw deploymentInProgress(state, 'start', await this.activeDeployment(state.app, state.env));
  }

  async saveDeployment(state: DeploymentState): Promise<void> {
    this.#assertOpen('saveDeployment');
    const key = keys.deploymentKey(state.id);
    const active = keys.activeKey(state.app, state.env);
    for (let attempt = 1; ; attempt++) {
      const entry = await this.#kv.get(key);
      if (entry === undefined) throw unknownDeployment(state.id, 'save');
      const old = parse<DeploymentState>(entry);
      const oldActive = keys.activeKey(old.app, old.env);
      const compare: KvCompare[] = [unchanged(key, entry)];
      const success: KvOp[] = [{ type: 'put', key, value: JSON.stringify(state) }];
      if (indexKey(old) !== indexKey(state)) {
        success.push(
          { type: 'delete', key: indexKey(old) },
          { type: 'put', key: indexKey(state), value: state.id },
        );
      }
      const holderOfOld = oldActive === active ? undefined : await this.#kv.get(oldActive);
      if (holderOfOld?.value === state.id) {
        // Moved to another app or environment: it no longer holds the old one's slot.
        compare.push(unchanged(oldActive, holderOfOld));
        success.push({ type: 'delete', key: oldActive });
      }
      const holder = await this.#kv.get(active);
      if (isActive(state)) {
        if (holder !== undefined && holder.value !== state.id) {
          throw deploymentInProgress(state, 'reactivate', await this.activeDeployment(state.app, state.env));
        }
        compare.push(unchanged(active, holder));
        if (holder === undefined) success.push({ type: 'put', key: active, value: state.id });
      } else if (holder?.value === state.id) {
        compare.push(unchanged(active, holder));
        success.push({ type: 'delete', key: active });
      }
      if ((await this.#kv.txn({ compare, success })).succeeded) return;
      this.#assertProgress('saveDeployment', attempt);
    }
  }

  async getDeployment(id: string): Promise<DeploymentState | undefined> {
    const entry = await this.#get('getDeployment', keys.deploymentKey(id));
    return entry && parse<DeploymentState>(entry);
  }

  async saveServedReport(id: string, record: ServedReportRecord): Promise<void> {
    this.#assertOpen('saveServedReport');
    const key = keys.deploymentKey(id);
    for (let attempt = 1; ; attempt++) {
      const entry = await this.#kv.get(key);
      if (entry === undefined) throw unknownDeployment(id, 'save the report of');
      const { succeeded } = await this.#kv.txn({
        compare: [unchanged(key, entry)],
        success: [{ type: 'put', key: keys.servedReportKey(id), value: JSON.stringify(record) }],
      });
      if (succeeded) return;
      this.#assertProgress('saveServedReport', attempt);
    }
  }

  async getServedReport(id: string): Promise<ServedReportRecord | undefined> {
    const entry = await this.#get('getServedReport', keys.servedReportKey(id));
    return entry && parse<ServedReportRecord>(entry);
  }

  async activeDeployment(app: string, env: string): Promise<DeploymentState | undefined> {
    const holder = await this.#get('activeDeployment', keys.activeKey(app, env));
    if (holder === undefined) return undefined;
    const state = await this.getDeployment(holder.value);
    return state && isActive(state) ? state : undefined;
  }

  async activeDeployments(): Promise<DeploymentState[]> {
    const { entries } = await this.#range('activeDeployments', '/active/');
    const states = await Promise.all(entries.map((entry) => this.getDeployment(entry.value)));
    return states.filter((state): state is DeploymentState => state !== undefined && isActive(state));
  }

  async listDeployments(filter: { app?: string; env?: string; limit?: number }): Promise<DeploymentState[]> {
    const entries =
      filter.app === undefined
        ? (await this.#range('listDeployments', keys.DEPLOYMENTS_PREFIX)).entries
        : await this.#appDeployments(filter.app, filter.env, filter.limit);
    const matching = newestFirst<DeploymentState>(entries, (d) => d.createdAt).filter(
      (d) =>
        (filter.app === undefined || d.app === filter.app) &&
        (filter.env === undefined || d.env === filter.env),
    );
    return filter.limit === undefined ? matching : matching.slice(0, Math.max(0, filter.limit));
  }

  async appendEvent(event: NewDeploymentEvent): Promise<DeploymentEvent> {
    this.#assertOpen('appendEvent');
    const { deploymentId, at, type, message, data } = event;
    if ((await this.#kv.get(keys.deploymentKey(deploymentId))) === undefined) {
      throw unknownDeployment(deploymentId, 'log to');
    }
    const counterKey = keys.eventSeqKey(deploymentId);
    for (let attempt = 1; ; attempt++) {
      const counter = await this.#kv.get(counterKey);
      const seq = (counter === undefined ? 0 : Number(counter.value)) + 1;
      const appended: DeploymentEvent = {
        deploymentId,
        seq,
        at,
        type,
        message,
        ...(data == null ? {} : { data }),
      };
      const { succeeded } = await this.#kv.txn({
        compare: [unchanged(counterKey, counter)],
        success: [
          { type: 'put', key: counterKey, value: String(seq) },
          { type: 'put', key: keys.eventKey(deploymentId, seq), value: JSON.stringify(appended) },
        ],
      });
      if (succeeded) return appended;
      this.#assertProgress('appendEvent', attempt);
    }
  }

  async listEvents(deploymentId: string, afterSeq = 0): Promise<DeploymentEvent[]> {
    const { entries } = await this.#range('listEvents', keys.eventsPrefix(deploymentId));
    return entries.map((entry) => parse<DeploymentEvent>(entry)).filter((e) => e.seq > afterSeq);
  }

  // --- app state --------------------------------------------------------------------------------

  async getCurrent(app: string, env: string): Promise<string | undefined> {
    return (await this.#get('getCurrent', keys.currentKey(app, env)))?.value;
  }

  async setCurrent(app: string, env: string, version: string): Promise<void> {
    this.#assertOpen('setCurrent');
    await this.#kv.put(keys.currentKey(app, env), version);
  }

  // --- locks ------------------------------------------------------------------------------------

  /**
   * Expiry is the contract's: a lock whose expiresAt <= the taker's createdAt (or `now`) is free. It
   * is not a KV lease, whose expiry runs on the store's clock rather than the caller's `now`.
   */
  async acquireLock(lock: LockRecord): Promise<boolean> {
    this.#assertOpen('acquireLock');
    const key = keys.lockKey(lock.key);
    for (let attempt = 1; ; attempt++) {
      const entry = await this.#kv.get(key);
      if (entry !== undefined) {
        const held = parse<LockRecord>(entry);
        const expired = held.expiresAt !== null && held.expiresAt <= lock.createdAt;
        if (held.owner !== lock.owner && !expired) return false;
      }
      const { succeeded } = await this.#kv.txn({
        compare: [unchanged(key, entry)],
        success: [{ type: 'put', key, value: JSON.stringify(lock) }],
      });
      if (succeeded) return true;
      this.#assertProgress('acquireLock', attempt);
    }
  }

  async releaseLock(key: string, owner: string): Promise<void> {
    this.#assertOpen('releaseLock');
    const lockKey = keys.lockKey(key);
    for (let attempt = 1; ; attempt++) {
      const entry = await this.#kv.get(lockKey);
      if (entry === undefined || parse<LockRecord>(entry).owner !== owner) return;
      const { succeeded } = await this.#kv.txn({
        compare: [unchanged(lockKey, entry)],
        success: [{ type: 'delete', key: lockKey }],
      });
      if (succeeded) return;
      this.#assertProgress('releaseLock', attempt);
    }
  }

  async getLock(key: string, now: number): Promise<LockRecord | undefined> {
    const entry = await this.#get('getLock', keys.lockKey(key));
    if (entry === undefined) return undefined;
    const lock = parse<LockRecord>(entry);
    return lock.expiresAt === null || lock.expiresAt > now ? lock : undefined;
  }

  // --- audit ------------------------------------------------------------------------------------

  async audit(entry: AuditEntry): Promise<void> {
    this.#assertOpen('audit');
    const { at, actor, action, target, detail } = entry;
    const record: AuditEntry = { at, actor, action, target, ...(detail == null ? {} : { detail }) };
    await this.#kv.put(`${keys.auditTimePrefix(at)}${randomUUID()}`, JSON.stringify(record));
  }

  /**
   * Reads at most `limit` keys from the newest; the entries of the oldest time read are then read
   * whole, because only their create revisions (not their keys) say which of them are newest.
   */
  async listAudit(limit: number): Promise<AuditEntry[]> {
    if (limit <= 0) {
      this.#assertOpen('listAudit');
      return [];
    }
    const { entries } = await this.#range('listAudit', keys.AUDIT_PREFIX, { limit });
    const last = entries.at(-1);
    if (last === undefined) return [];
    const lastAt = parse<AuditEntry>(last).at;
    const before = entries.filter((e) => parse<AuditEntry>(e).at !== lastAt);
    const { entries: tied } = await this.#range('listAudit', keys.auditTimePrefix(lastAt));
    return [
      ...newestFirst<AuditEntry>(before, (e) => e.at),
      ...newestFirst<AuditEntry>(tied, (e) => e.at),
    ].slice(0, limit);
  }

  /** Closes the KV store (unless it was given with closeKv: false). Closing twice is harmless. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#closeKv) await this.#kv.close();
  }

  // --- helpers ----------------------------------------------------------------------------------

  /**
   * One app's deployments through its index, without reading the others'. With a limit, only those
   * at least as new as the limit-th are read (ties at that time are read whole: only their create
   * revisions order them).
   */
  async #appDeployments(app: string, env: string | undefined, limit: number | undefined): Promise<KvEntry[]> {
    // Tried again at the next read when it failed (the store was unreachable a moment).
    await (this.#indexed ??= this.#indexEarlierDeployments().catch((error: unknown) => {
      this.#indexed = null;
      throw error;
    }));
    const { entries } = await this.#range('listDeployments', keys.appDeploymentsPrefix(app, env));
    // The key's next-to-last segment is the inverted time: a larger one is older.
    const indexed = entries
      .map((entry) => ({ id: entry.value, inverted: entry.key.split('/').at(-2) ?? '' }))
      .sort((a, b) => (a.inverted < b.inverted ? -1 : a.inverted > b.inverted ? 1 : 0));
    const bound = limit === undefined ? undefined : indexed[Math.max(0, limit) - 1]?.inverted;
    const wanted =
      limit !== undefined && limit <= 0
        ? []
        : indexed.filter((i) => bound === undefined || i.inverted <= bound);
    const read = await Promise.all(wanted.map((i) => this.#kv.get(keys.deploymentKey(i.id))));
    return read.filter((entry): entry is KvEntry => entry !== undefined);
  }

  /**
   * Deployments stored before the app index existed (an etcd written by an earlier Ferry) are put
   * in it once, before the index is first read; every server that finds the index unfinished does
   * the same idempotent puts, and the first to finish marks it done.
   */
  async #indexEarlierDeployments(): Promise<void> {
    if ((await this.#kv.get(keys.APP_INDEX_DONE_KEY)) !== undefined) return;
    const { entries } = await this.#range('listDeployments', keys.DEPLOYMENTS_PREFIX);
    const puts: KvOp[] = entries.map((entry) => {
      const state = parse<DeploymentState>(entry);
      return { type: 'put', key: indexKey(state), value: state.id };
    });
    // etcd takes at most 128 operations in one transaction.
    for (let i = 0; i < puts.length; i += 100)
      await this.#kv.txn({ compare: [], success: puts.slice(i, i + 100) });
    await this.#kv.put(keys.APP_INDEX_DONE_KEY, String(entries.length));
  }

  #assertOpen(operation: string): void {
    if (this.#closed) {
      throw new FerryError('FERRY_E_ILLEGAL_STATE', `cannot ${operation}: the store is closed`, {
        expected: 'open',
        got: 'closed',
      });
    }
  }

  #assertProgress(operation: string, attempt: number): void {
    if (attempt >= MAX_ATTEMPTS) {
      throw new FerryError(
        'FERRY_E_STORE',
        `the state store failed to ${operation}: ${attempt} writers in a row got there first`,
        {},
      );
    }
  }

  #get(operation: string, key: string): Promise<KvEntry | undefined> {
    this.#assertOpen(operation);
    return this.#kv.get(key);
  }

  #range(operation: string, prefix: string, options?: { limit?: number }): ReturnType<KvStore['range']> {
    this.#assertOpen(operation);
    return this.#kv.range(prefix, options);
  }

  /** Read-modify-write of one JSON record, retried while other writers change it in between. */
  async #update<T>(operation: string, key: string, next: (entry: KvEntry | undefined) => T): Promise<T> {
    this.#assertOpen(operation);
    for (let attempt = 1; ; attempt++) {
      const entry = await this.#kv.get(key);
      const record = next(entry);
      const { succeeded } = await this.#kv.txn({
        compare: [unchanged(key, entry)],
        success: [{ type: 'put', key, value: JSON.stringify(record) }],
      });
      if (succeeded) return record;
      this.#assertProgress(operation, attempt);
    }
  }
}
