import { describe, expect, it } from 'vitest';
import type { KvStore } from '../kv.js';
import { type KvContractHarness, useFreshKvStore } from './fixtures.js';

/** Adds one to the counter at `key` by read-modify-write, retrying when another writer came first. */
async function increment(store: KvStore, key: string): Promise<number> {
  for (let attempt = 1; attempt <= 1_000; attempt++) {
    const entry = await store.get(key);
    const next = Number(entry?.value ?? '0') + 1;
    const result = await store.txn({
      compare: [{ key, modRevision: entry?.modRevision ?? 0 }],
      success: [{ type: 'put', key, value: String(next) }],
    });
    if (result.succeeded) return attempt;
  }
  throw new Error('the increment kept losing its race');
}

export function describeConcurrency(harness: KvContractHarness): void {
  describe('concurrency', () => {
    const store = useFreshKvStore(harness);

    it('loses no update: 20 concurrent compare-and-swap increments end at exactly 20', async () => {
      const base = await store().revision();
      await Promise.all(Array.from({ length: 20 }, () => increment(store(), '/counter')));
      expect(await store().get('/counter')).toMatchObject({ value: '20', version: 20 });
      expect(await store().revision()).toBe(base + 20);
    });
  });
}
