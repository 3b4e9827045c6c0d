import type { IDuplexStream, IWatchRequest, IWatchResponse } from 'etcd3';
import { FerryError } from '../../../errors/ferry-error.js';
import type { Clock, TimerHandle } from '../../../lib/clock.js';
import { historyCompacted } from '../errors.js';
import type { KvEvent, KvWatch } from '../kv.js';
import type { WatchDelivery } from '../watch-delivery.js';

/** What a watch needs from the store: a stream, the keys it covers, and lease liveness. */
export interface EtcdWatchSource {
  /** Opens a new Watch stream (on any endpoint). */
  openStream(): Promise<IDuplexStream<IWatchRequest, IWatchResponse>>;
  /** The etcd key range of the watched prefix (installation prefix included). */
  readonly range: { readonly key: Buffer; readonly rangeEnd: Buffer };
  /** The store key of an etcd key (the installation prefix taken off). */
  storeKey(key: Buffer): string;
  /** Whether the lease no longer exists (expired or revoked). */
  isLeaseGone(id: string): Promise<boolean>;
  readonly clock: Clock;
}

const FIRST_RETRY_MS = 100;
const MAX_RETRY_MS = 5_000;

/**
 * A watch of etcd over its own Watch stream, created with start_revision = the last revision it
 * delivered + 1. Responses are handled one after another (a delete of a leased key asks etcd whether
 * the lease still exists, to mark expiry). A stream that breaks (etcd restarted, a connection lost)
 * is opened again from the last delivered revision, with backoff; only etcd's own cancel (history
 * compacted, a refused request) ends the watch with an error.
 */
export class EtcdWatch implements KvWatch {
  #delivered: number;
  #stream: IDuplexStream<IWatchRequest, IWatchResponse> | undefined;
  #queue: Promise<void> = Promise.resolve();
  #retryMs = FIRST_RETRY_MS;
  #retryTimer: TimerHandle | undefined;
  readonly #source: EtcdWatchSource;
  readonly #delivery: WatchDelivery;
  readonly #onEnd: (watch: EtcdWatch) => void;

  constructor(
    source: EtcdWatchSource,
    fromRevision: number,
    delivery: WatchDelivery,
    onEnd: (watch: EtcdWatch) => void,
  ) {
    this.#source = source;
    this.#delivered = fromRevision;
    this.#delivery = delivery;
    this.#onEnd = onEnd;
    void this.#connect();
  }

  cancel(): void {
    this.#delivery.cancel();
    this.#end();
  }

  async #connect(): Promise<void> {
    if (!this.#delivery.watching) return;
    let stream: IDuplexStream<IWatchRequest, IWatchResponse>;
    try {
      stream = await this.#source.openStream();
    } catch {
      this.#retryLater();
      return;
    }
    if (!this.#delivery.watching) {
      closeStream(stream);
      return;
    }
    this.#stream = stream;
    stream.on('data', (response) => {
      this.#queue = this.#queue
        .then(() => this.#handle(stream, response))
        .catch((error: unknown) => this.#fail(error instanceof Error ? error : new Error(String(error))));
    });
    stream.on('error', () => this.#lost(stream));
    stream.on('end', () => this.#lost(stream));
    stream.write({
      create_request: {
        key: this.#source.range.key,
        range_end: this.#source.range.rangeEnd,
        start_revision: this.#delivered + 1,
        // The previous entry of a deleted key carries its lease: how expiry is told from a delete.
        prev_kv: true,
      },
    });
  }

  async #handle(
    stream: IDuplexStream<IWatchRequest, IWatchResponse>,
    response: IWatchResponse,
  ): Promise<void> {
    if (stream !== this.#stream || !this.#delivery.watching) return;
    if (response.canceled) {
      const compactRevision = Number(response.compact_revision);
      this.#fail(
        compactRevision > 0
          ? historyCompacted(this.#delivered, compactRevision)
          : new FerryError(
              'FERRY_E_STORE',
              `etcd ended the watch: ${response.cancel_reason || 'no reason given'}`,
            ),
      );
      return;
    }
    if (response.created) this.#retryMs = FIRST_RETRY_MS;
    let batches: Map<number, KvEvent[]>;
    try {
      batches = await this.#toBatches(response);
    } catch {
      // etcd went away while we asked about a lease: start again from what was delivered.
      this.#lost(stream);
      return;
    }
    if (stream !== this.#stream) return;
    for (const [revision, events] of batches) {
      if (!this.#delivery.deliver(events, revision)) {
        this.#end();
        return;
      }
      this.#delivered = revision;
    }
  }

  async #toBatches(response: IWatchResponse): Promise<Map<number, KvEvent[]>> {
    const leaseGone = new Map<string, Promise<boolean>>();
    const batches = new Map<number, KvEvent[]>();
    for (const event of response.events) {
      const modRevision = Number(event.kv.mod_revision);
      if (modRevision <= this.#delivered) continue;
      const key = this.#source.storeKey(event.kv.key);
      let kvEvent: KvEvent;
      if (event.type === 'Put') {
        kvEvent = { type: 'put', key, value: event.kv.value.toString('utf8'), modRevision };
      } else {
        const lease = event.prev_kv?.lease ?? '0';
        let gone = false;
        if (lease !== '0') {
          let asked = leaseGone.get(lease);
          if (asked === undefined) leaseGone.set(lease, (asked = this.#source.isLeaseGone(lease)));
          gone = await asked;
        }
        kvEvent = { type: 'delete', key, modRevision, ...(gone ? { expired: true } : {}) };
      }
      const batch = batches.get(modRevision);
      if (batch === undefined) batches.set(modRevision, [kvEvent]);
      else batch.push(kvEvent);
    }
    return batches;
  }

  /** The stream broke: open another from the last delivered revision, once what came is handled. */
  #lost(stream: IDuplexStream<IWatchRequest, IWatchResponse>): void {
    if (stream !== this.#stream) return;
    this.#stream = undefined;
    closeStream(stream);
    this.#queue = this.#queue.then(() => this.#retryLater());
  }

  #retryLater(): void {
    if (!this.#delivery.watching || this.#retryTimer !== undefined) return;
    const delay = this.#retryMs;
    this.#retryMs = Math.min(MAX_RETRY_MS, this.#retryMs * 2);
    this.#retryTimer = this.#source.clock.setTimeout(() => {
      this.#retryTimer = undefined;
      void this.#connect();
    }, delay);
  }

  #fail(error: Error): void {
    this.#delivery.fail(error);
    this.#end();
  }

  #end(): void {
    if (this.#retryTimer !== undefined) this.#source.clock.clearTimeout(this.#retryTimer);
    this.#retryTimer = undefined;
    if (this.#stream !== undefined) closeStream(this.#stream);
    this.#stream = undefined;
    this.#onEnd(this);
  }
}

/**
 * Half-closes, then cancels: etcd keeps a half-closed watch stream open, and a cancel of a stream
 * still writable would count as a failure of its endpoint in the client's circuit breaker.
 */
export function closeStream(stream: IDuplexStream<unknown, unknown>): void {
  stream.end();
  stream.cancel();
}
