import { isFerryError } from '../errors/ferry-error.js';
import type { Clock } from '../lib/clock.js';
import type { KvStore, LeaseId } from '../store/kv/kv.js';

/**
 * The delivery ids seen lately, per source, so a replayed delivery is refused. Kept in memory,
 * bounded: an id is remembered for `retainMs` (longer than the timestamp window, so a signed
 * generic delivery cannot come back once forgotten) and the oldest go first past `maxEntries`.
 * A restart forgets them: the daemon keeps them in the KV store as well (KvDeliveryLog).
 */
export class DeliveryLog {
  // A Map keeps insertion order: the first entries are the oldest.
  private readonly seen = new Map<string, number>();

  constructor(
    private readonly opts: { readonly clock: Clock; readonly retainMs: number; readonly maxEntries: number },
  ) {}

  /** Records the delivery; false when it was seen within the retention (a replay). */
  record(source: string, delivery: string): boolean {
    const now = this.opts.clock.now();
    for (const [key, at] of this.seen) {
      if (now - at < this.opts.retainMs && this.seen.size < this.opts.maxEntries) break;
      this.seen.delete(key);
    }
    const key = `${source}\u0000${delivery}`;
    if (this.seen.has(key)) return false;
    this.seen.set(key, now);
    return true;
  }

  /** Forgets a delivery that was refused before it changed anything, so its sender may retry it. */
  forget(source: string, delivery: string): void {
    this.seen.delete(`${source}\u0000${delivery}`);
  }
}

/** Where delivery ids are kept: remembers deliveries across restarts and across the servers of a fleet. */
export interface DeliveryRecorder {
  /** Records the delivery; false when it was seen within the retention (a replay). */
  record(source: string, delivery: string): Promise<boolean>;
  /** Forgets a delivery that was refused before it changed anything, so its sender may retry it. */
  forget(source: string, delivery: string): Promise<void>;
}

/** The in-memory log alone: deliveries are forgotten at a restart. */
export function memoryDeliveries(log: DeliveryLog): DeliveryRecorder {
  return {
    record: (source, delivery) => Promise.resolve(log.record(source, delivery)),
    forget: (source, delivery) => {
      log.forget(source, delivery);
      return Promise.resolve();
    },
  };
}

/** Where delivery ids are kept in the KV store: `/deliveries/<source>/<id>`. */
export const DELIVERIES_PREFIX = '/deliveries/';
/** A lease is shared by the deliveries of this long, and lives this much past the retention. */
const LEASE_SPAN_MS = 60 * 60 * 1000;

/**
 * Delivery ids in the KV store, each key on a lease that ends a day (the retention) after it was
 * granted: a replay after a restart, or to another server of a fleet, is still refused. A key is
 * created only where none exists (a compare on its absence), so two servers taking one delivery at
 * once deploy it once. The in-memory log answers a replay to this server without a store round trip.
 */
export class KvDeliveryLog implements DeliveryRecorder {
  private lease: { readonly id: LeaseId; readonly grantedAt: number } | null = null;

  constructor(
    private readonly kv: KvStore,
    private readonly memory: DeliveryLog,
    private readonly opts: { readonly clock: Clock; readonly retainMs: number },
  ) {}

  async record(source: string, delivery: string): Promise<boolean> {
    if (!this.memory.record(source, delivery)) return false;
    const key = `${DELIVERIES_PREFIX}${encodeURIComponent(source)}/${encodeURIComponent(delivery)}`;
    for (let attempt = 0; ; attempt++) {
      const lease = await this.currentLease(attempt > 0);
      try {
        const { succeeded } = await this.kv.txn({
          compare: [{ key, modRevision: 0 }],
          success: [{ type: 'put', key, value: String(this.opts.clock.now()), lease }],
        });
        return succeeded;
      } catch (error) {
        // The shared lease ended early (the store was away): one more try on a new one.
        if (attempt === 0 && isFerryError(error, 'FERRY_E_STORE_LEASE_EXPIRED')) continue;
        this.memory.forget(source, delivery);
        throw error;
      }
    }
  }

  async forget(source: string, delivery: string): Promise<void> {
    this.memory.forget(source, delivery);
    await this.kv.delete(`${DELIVERIES_PREFIX}${encodeURIComponent(source)}/${encodeURIComponent(delivery)}`);
  }

  private async currentLease(renew: boolean): Promise<LeaseId> {
    const now = this.opts.clock.now();
    if (!renew && this.lease !== null && now - this.lease.grantedAt < LEASE_SPAN_MS) return this.lease.id;
    const granted = await this.kv.grantLease(this.opts.retainMs + LEASE_SPAN_MS);
    this.lease = { id: granted.id, grantedAt: now };
    return granted.id;
  }
}
