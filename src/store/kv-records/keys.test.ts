import { describe, expect, it } from 'vitest';
import { PENDING_PREFIX } from '../../releases/intake.js';
import { CATALOG_PREFIX } from '../../releases/kv-catalog.js';
import { QUEUE_PREFIX } from '../../server/locks/deploy-queue.js';
import { LOCKS_PREFIX } from '../../server/locks/lock.js';
import { RESTART_SLOTS_PREFIX } from '../../server/fleet/restart-slots.js';
import { ROLLOUTS_PREFIX } from '../../server/rollouts/rollout-record.js';
import { VERDICTS_PREFIX } from '../../server/rollouts/kv-verdicts.js';
import { DELIVERIES_PREFIX } from '../../triggers/delivery-log.js';
import { RECORD_PREFIXES, eventKey, ledgerKey, lockKey } from './keys.js';

describe('the records’ keys', () => {
  it('share no prefix with the other collections of the control plane’s key-value store', () => {
    const others = [
      PENDING_PREFIX,
      CATALOG_PREFIX,
      QUEUE_PREFIX,
      LOCKS_PREFIX,
      RESTART_SLOTS_PREFIX,
      ROLLOUTS_PREFIX,
      VERDICTS_PREFIX,
      DELIVERIES_PREFIX,
      '/hosts/',
      '/trust/',
    ];
    for (const ours of RECORD_PREFIXES) {
      for (const theirs of [...others, ...RECORD_PREFIXES.filter((p) => p !== ours)]) {
        expect(ours.startsWith(theirs) || theirs.startsWith(ours), `${ours} and ${theirs}`).toBe(false);
      }
    }
  });

  it('encodes outside input so a name never adds a level', () => {
    expect(ledgerKey('a/b', '__proto__', '1.0.0+x/y')).toBe('/ledger/a%2Fb/__proto__/1.0.0%2Bx%2Fy');
    expect(lockKey('env:staging/web')).toBe('/store-locks/env%3Astaging%2Fweb');
    // Zero-padded, so key order is numeric order.
    expect(eventKey('d-1', 10) > eventKey('d-1', 9)).toBe(true);
  });
});
