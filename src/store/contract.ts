import { describe, it } from 'vitest';
import { describeAudit } from './contract/audit.js';
import { describeDeployments } from './contract/deployments.js';
import { describeDeploymentEvents } from './contract/events.js';
import { expectFerryError } from './contract/fixtures.js';
import { describeInstancesAndCurrent } from './contract/instances.js';
import { describeLocks } from './contract/locks.js';
import { describeReleaseLedger } from './contract/releases.js';
import type { InstanceStore, Store } from './store.js';

/**
 * The behaviour every Store driver must have, as a vitest suite. A driver's test file calls this
 * with a function that opens a fresh, empty store; each test opens its own and closes it afterwards.
 *
 *   describeStoreContract('sqlite', async () => openSqliteStore(':memory:'));
 */
export function describeStoreContract(driverName: string, open: () => Promise<Store & InstanceStore>): void {
  describe(`Store contract: ${driverName}`, () => {
    describeReleaseLedger(open);
    describeDeployments(open);
    describeDeploymentEvents(open);
    describeInstancesAndCurrent(open);
    describeLocks(open);
    describeAudit(open);

    it('refuses work once closed; closing twice is harmless', async () => {
      const store = await open();
      await store.close();
      await store.close();
      await expectFerryError(store.getCurrent('web', 'production'), 'FERRY_E_ILLEGAL_STATE');
    });
  });
}
