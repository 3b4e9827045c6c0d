import { setTimeout as pause } from 'node:timers/promises';
import { type Etcd3, GRPCOutOfRangeError } from 'etcd3';
import { type Clock, systemClock } from '../../lib/clock.js';
import { storeClosed } from '../sqlite/errors.js';
import {
  assertKey,
  assertLeaseId,
  isLeaseId,
  assertLimit,
  assertPrefix,
  assertRevision,
  assertTtl,
  assertTxn,
  assertValue,
} from './assert-request.js';
import { invalidRequest, leaseExpired } from './errors.js';
import { createEtcdClient } from './etcd/client.js';
import { EtcdKeys } from './etcd/convert.js';
import { type EtcdPlace, isLeaseNotFound, isUnreachable, isUnsent, toEtcdStoreError } from './etcd/errors.js';
import { EtcdWatch, closeStream } from './etcd/watch.js';
import type {
  KvEntry,
  KvListener,
  KvRange,
  KvStore,
  KvTxn,
  KvTxnResult,
  KvWatch,
  Lease,
  LeaseId,
} from './kv.js';
import { WatchDelivery } from './watch-delivery.js';

export interface EtcdKvOptions {
  /** host:port of each etcd member. */
  readonly endpoints: readonly string[];
  /**
   * The installation's key prefix, ending with '/' (e.g. '/ferry-prod/'): every key this store
   * writes is under it, so several installations share one etcd. '' uses etcd's whole key space.
   */
  readonly prefix: string;
  readonly auth?: { readonly username: string; readonly password: string };
  /** How long one call may take before it fails with FERRY_E_STORE_UNREACHABLE (default 5 s). */
  readonly timeoutMs?: number;
  /** Times the reconnection of broken watch streams (default: the system clock). */
  readonly clock?: Clock;
}

export const DEFAULT_ETCD_TIMEOUT_MS = 5_000;

/** Attempts of a call that may be retried, and the pause between them. */
const MAX_ATTEMPTS = 3;
const RETRY_PAUSE_MS = 50;

/**
 * Connects to etcd and checks that it answers: FERRY_E_STORE_UNREACHABLE naming the endpoints when
 * it does not within the timeout.
 */
export async function openEtcdKvStore(options: EtcdKvOptions): Promise<EtcdKvStore> {
  const timeoutMs = options.timeoutMs ?? DEFAULT_ETCD_TIMEOUT_MS;
  const client = createEtcdClient({ endpoints: options.endpoints, auth: options.auth, timeoutMs });
  const place: EtcdPlace = { endpoints: options.endpoints.join(','), prefix: options.prefix, timeoutMs };
  const store = new EtcdKvStore(client, place, options.clock ?? systemClock);
  try {
    await store.revision();
  } catch (error) {
    await store.close();
    throw error;
  }
  return store;
}

/**
 * The production key-value store: a thin mapping onto etcd's KV, Watch and Lease services. Reads are
 * linearizable; a transaction is etcd's Txn; every key is under the installation's prefix.
 *
 * A call that fails to reach etcd is retried (up to 3 attempts, within one deadline) when that is
 * safe: reads, lease grants, renewals and revocations, and writes that were never sent; a write whose
 * answer was lost is not retried, since it may have been applied.
 */
export class EtcdKvStore implements KvStore {
  #lifecycle: 'open' | 'closed' = 'open';
  readonly #client: Etcd3;
  readonly #place: EtcdPlace;
  readonly #keys: EtcdKeys;
  readonly #clock: Clock;
  readonly #watches = new Set<EtcdWatch>();

  /** Use openEtcdKvStore, which checks that etcd answers first. */
  constructor(client: Etcd3, place: EtcdPlace, clock: Clock) {
    this.#client = client;
    this.#place = place;
    this.#keys = new EtcdKeys(place.prefix);
    this.#clock = clock;
  }

  async revision(): Promise<number> {
    // A count of one key: etcd answers with its revision in the header, whatever the key.
    const response = await this.#call('read the revision', 'safe', (options) =>
      this.#client.kv.range({ key: this.#keys.key('\0'), count_only: true }, options),
    );
    return Number(response.header.revision);
  }

  async get(key: string): Promise<KvEntry | undefined> {
    assertKey(key);
    const response = await this.#call('get a key', 'safe', (options) =>
      this.#client.kv.range({ key: this.#keys.key(key) }, options),
    );
    const kv = response.kvs[0];
    return kv && this.#keys.entry(kv);
  }

  async range(prefix: string, options: { limit?: number } = {}): Promise<KvRange> {
    assertPrefix(prefix);
    assertLimit(options.limit);
    const { key, rangeEnd } = this.#keys.range(prefix);
    const response = await this.#call('read a range', 'safe', (callOptions) =>
      this.#client.kv.range({ key, range_end: rangeEnd, limit: options.limit ?? 0 }, callOptions),
    );
    return {
      entries: response.kvs.map((kv) => this.#keys.entry(kv)),
      revision: Number(response.header.revision),
    };
  }

  async txn(txn: KvTxn): Promise<KvTxnResult> {
    assertTxn(txn);
    const operation = 'apply a transaction';
    const response = await this.#call(operation, 'unsent', (options) =>
      this.#client.kv
        .txn(
          {
            compare: txn.compare.map((compare) => this.#keys.compare(compare)),
            success: txn.success.map((op) => this.#keys.op(op)),
            failure: (txn.failure ?? []).map((op) => this.#keys.op(op)),
          },
          options,
        )
        .catch(explainLease(leasesOf(txn), operation)),
    );
    return { succeeded: response.succeeded, revision: Number(response.header.revision) };
  }

  async put(key: string, value: string, options: { lease?: LeaseId } = {}): Promise<number> {
    assertKey(key);
    assertValue(value);
    const { lease } = options;
    if (lease !== undefined) assertLeaseId(lease, `put ${JSON.stringify(key)}`);
    const operation = `put ${JSON.stringify(key)}`;
    const response = await this.#call(operation, 'unsent', (callOptions) =>
      this.#client.kv
        .put(
          {
            key: this.#keys.key(key),
            value: Buffer.from(value, 'utf8'),
            ...(lease === undefined ? {} : { lease }),
          },
          callOptions,
        )
        .catch(explainLease(lease === undefined ? [] : [lease], operation)),
    );
    return Number(response.header.revision);
  }

  async delete(key: string): Promise<number> {
    assertKey(key);
    const response = await this.#call('delete a key', 'unsent', (options) =>
      this.#client.kv.deleteRange({ key: this.#keys.key(key) }, options),
    );
    return Number(response.header.revision);
  }

  watch(
    prefix: string,
    fromRevision: number,
    listener: KvListener,
    onError?: (error: Error) => void,
  ): KvWatch {
    if (this.#lifecycle !== 'open') throw storeClosed(this.#where, 'watch');
    assertPrefix(prefix);
    assertRevision(fromRevision, 'fromRevision');
    const watch = new EtcdWatch(
      {
        openStream: () => this.#client.watchClient.watch(),
        range: this.#keys.range(prefix),
        storeKey: (key) => this.#keys.storeKey(key),
        isLeaseGone: async (id) => {
          const response = await this.#call('read a lease', 'safe', (options) =>
            this.#client.leaseClient.leaseTimeToLive({ ID: id }, options),
          );
          return Number(response.TTL) < 0;
        },
        clock: this.#clock,
      },
      fromRevision,
      new WatchDelivery(listener, onError),
      (ended) => this.#watches.delete(ended),
    );
    this.#watches.add(watch);
    return watch;
  }

  async grantLease(ttlMs: number): Promise<Lease> {
    assertTtl(ttlMs);
    // A lease granted twice (an answer lost, then a retry) expires unused: harmless.
    const response = await this.#call('grant a lease', 'safe', (options) =>
      this.#client.leaseClient.leaseGrant({ TTL: Math.ceil(ttlMs / 1000) }, options),
    );
    return { id: response.ID, ttlMs: Number(response.TTL) * 1000 };
  }

  async keepAlive(id: LeaseId): Promise<boolean> {
    if (!isLeaseId(id)) return false;
    return this.#call('renew a lease', 'safe', (options) => this.#keepAliveOnce(id, options.deadline));
  }

  async revokeLease(id: LeaseId): Promise<void> {
    if (!isLeaseId(id)) return;
    await this.#call('revoke a lease', 'safe', (options) =>
      this.#client.leaseClient.leaseRevoke({ ID: id }, options).then(
        () => undefined,
        (error: unknown) => {
          // Expired, revoked already (perhaps by our own attempt whose answer was lost), or unknown.
          if (!isLeaseNotFound(error)) throw error;
        },
      ),
    );
  }

  async compact(revision: number): Promise<void> {
    assertRevision(revision, 'revision');
    await this.#call('compact the history', 'safe', (options) =>
      this.#client.kv.compact({ revision }, options).then(
        () => undefined,
        (error: unknown) => {
          if (!(error instanceof GRPCOutOfRangeError)) throw error;
          if (error.message.includes('future revision')) {
            throw invalidRequest('revision', 'a revision up to the current one', String(revision));
          }
          // Compacted at or past it already: nothing to do.
        },
      ),
    );
  }

  /** Ends every watch and closes the connections. Closing twice is harmless. */
  close(): Promise<void> {
    if (this.#lifecycle === 'closed') return Promise.resolve();
    this.#lifecycle = 'closed';
    for (const watch of [...this.#watches]) watch.cancel();
    this.#client.close();
    return Promise.resolve();
  }

  get #where(): string {
    return `etcd at ${this.#place.endpoints}`;
  }

  /** One LeaseKeepAlive exchange on a stream of its own. TTL 0 in the answer: the lease is gone. */
  async #keepAliveOnce(id: string, deadline: Date | number | undefined): Promise<boolean> {
    const stream = await this.#client.leaseClient.leaseKeepAlive(deadline === undefined ? {} : { deadline });
    try {
      return await new Promise<boolean>((resolve, reject) => {
        stream.on('data', (response) => resolve(Number(response.TTL) > 0));
        stream.on('error', reject);
        stream.on('end', () => reject(new Error('etcd ended the keepalive stream without an answer')));
        stream.write({ ID: id });
      });
    } finally {
      closeStream(stream);
    }
  }

  /**
   * Runs one call with a deadline shared by its attempts; every failure is a FerryError whose cause is
   * etcd's error. `retry`: which failures to reach etcd may be tried again.
   */
  async #call<T>(
    operation: string,
    retry: 'safe' | 'unsent',
    send: (options: CallOptions) => Promise<T>,
  ): Promise<T> {
    if (this.#lifecycle !== 'open') throw storeClosed(this.#where, operation);
    const deadline = Date.now() + this.#place.timeoutMs;
    for (let attempt = 1; ; attempt++) {
      try {
        return await send({ deadline });
      } catch (error) {
        const again =
          attempt < MAX_ATTEMPTS &&
          this.#lifecycle === 'open' &&
          Date.now() + RETRY_PAUSE_MS < deadline &&
          (retry === 'safe' ? isUnreachable(error) : isUnsent(error));
        if (!again) {
          if (this.#lifecycle !== 'open') throw storeClosed(this.#where, operation);
          throw toEtcdStoreError(error, this.#place, operation, retry === 'unsent');
        }
      }
      // A real timer, not the clock's unref'd one: the caller awaits this call, and the pause must
      // hold the process as the call's socket does.
      await pause(RETRY_PAUSE_MS);
    }
  }
}

type CallOptions = { deadline: number };

/** etcd's "lease not found" as the store's FERRY_E_STORE_LEASE_EXPIRED naming the leases of the write. */
function explainLease(leases: readonly string[], operation: string): (error: unknown) => never {
  return (error) => {
    if (isLeaseNotFound(error)) throw leaseExpired(leases.join(', '), operation);
    throw error;
  };
}

function leasesOf(txn: KvTxn): string[] {
  const leases = [...txn.success, ...(txn.failure ?? [])].flatMap((op) =>
    op.type === 'put' && op.lease !== undefined ? [op.lease] : [],
  );
  return [...new Set(leases)];
}
