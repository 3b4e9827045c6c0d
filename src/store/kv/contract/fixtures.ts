import { afterEach, beforeEach, expect } from 'vitest';
import { waitFor } from '../../../../test/support/wait.js';
import type { KvEvent, KvStore, KvWatch } from '../kv.js';

/** What the contract needs from a driver's test file. */
export interface KvContractHarness {
  /** Opens a fresh, empty store (on a shared etcd: under a prefix no other test uses). */
  open(): Promise<KvStore>;
  /** The TTL the lease tests ask for: short, but one the driver grants as asked or close to it. */
  readonly leaseTtlMs: number;
  /**
   * Lets `ms` of the store's time pass: advances the fake clock the store was opened with, or
   * waits in real time (etcd's leases run on etcd's clock). Only the lease tests use it, to show
   * that a renewed lease outlives its TTL; everything else waits for conditions.
   */
  elapse(ms: number): Promise<void>;
}

/** How long a condition may take to hold: generous, for etcd's lease expiry on two busy cores. */
export const CONDITION_TIMEOUT_MS = 20_000;

/** Waits until `check` holds (immediately, with a fake clock already advanced). */
export function eventually<T>(what: string, check: () => T | Promise<T>): Promise<NonNullable<T>> {
  return waitFor(what, check, CONDITION_TIMEOUT_MS, 20);
}

/** Gives each test a freshly opened store and closes it afterwards, whatever the test did. */
export function useFreshKvStore(harness: KvContractHarness): () => KvStore {
  let store: KvStore | undefined;
  beforeEach(async () => {
    store = await harness.open();
  });
  afterEach(async () => {
    await store?.close();
    store = undefined;
  });
  return () => {
    if (store === undefined) throw new Error('the store is only available inside a test');
    return store;
  };
}

export interface WatchBatch {
  readonly revision: number;
  readonly events: readonly KvEvent[];
}

/** A watch that records what it is given, and checks the order of the calls as they come. */
export class WatchRecorder {
  readonly batches: WatchBatch[] = [];
  readonly errors: Error[] = [];
  readonly #watch: KvWatch;

  constructor(store: KvStore, prefix: string, fromRevision: number) {
    this.#watch = store.watch(
      prefix,
      fromRevision,
      (events, revision) => {
        const last = this.batches.at(-1);
        if (last !== undefined && revision <= last.revision) {
          this.errors.push(new Error(`revision ${revision} came after ${last.revision}`));
        }
        if (events.some((event) => event.modRevision !== revision)) {
          this.errors.push(new Error(`a batch of revision ${revision} holds another revision's event`));
        }
        this.batches.push({ revision, events: [...events] });
      },
      (error) => this.errors.push(error),
    );
  }

  get events(): KvEvent[] {
    return this.batches.flatMap((batch) => batch.events);
  }

  get lastRevision(): number | undefined {
    return this.batches.at(-1)?.revision;
  }

  /** Waits until the recorder has seen revision `revision` (or later). */
  async reach(revision: number): Promise<void> {
    await eventually(
      `the watch to reach revision ${revision}`,
      () => this.errors.length > 0 || (this.lastRevision ?? -1) >= revision,
    );
    expect(this.errors).toEqual([]);
  }

  async failure(): Promise<Error> {
    return eventually('the watch to fail', () => this.errors[0]);
  }

  cancel(): void {
    this.#watch.cancel();
  }
}
