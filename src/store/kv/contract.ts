import { describe, it } from 'vitest';
import { expectFerryError } from '../contract/fixtures.js';
import { describeConcurrency } from './contract/concurrency.js';
import type { KvContractHarness } from './contract/fixtures.js';
import { describeKeysAndValues } from './contract/keys.js';
import { describeLeases } from './contract/leases.js';
import { describeReads } from './contract/reads.js';
import { describeRevisions } from './contract/revisions.js';
import { describeTransactions } from './contract/txn.js';
import { describeWatches } from './contract/watch.js';

export type { KvContractHarness } from './contract/fixtures.js';

/**
 * The behaviour every KvStore driver must have, as a vitest suite: its test file calls this with a
 * harness that opens a fresh, empty store (each test opens its own and closes it afterwards) and
 * lets the store's time pass for the lease tests.
 *
 *   describeKvContract('sqlite', { open: () => openSqliteKvStore(':memory:', { clock }), ... });
 */
export function describeKvContract(driverName: string, harness: KvContractHarness): void {
  describe(`KvStore contract: ${driverName}`, () => {
    describeRevisions(harness);
    describeReads(harness);
    describeTransactions(harness);
    describeConcurrency(harness);
    describeWatches(harness);
    describeLeases(harness);
    describeKeysAndValues(harness);

    it('refuses work once closed; closing twice is harmless', async () => {
      const store = await harness.open();
      await store.close();
      await store.close();
      await expectFerryError(store.get('/a'), 'FERRY_E_ILLEGAL_STATE');
      await expectFerryError(store.put('/a', 'v'), 'FERRY_E_ILLEGAL_STATE');
    });
  });
}
