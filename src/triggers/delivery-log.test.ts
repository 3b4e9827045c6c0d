import { describe, expect, it } from 'vitest';
import { FakeClock } from '../lib/clock.js';
import { openSqliteKvStore } from '../store/kv/sqlite-kv.js';
import { DeliveryLog, KvDeliveryLog } from './delivery-log.js';

const DAY = 24 * 60 * 60 * 1000;

describe('delivery ids in the KV store', () => {
  it('refuse a replay to a new log on the same store (a restart, another server) for a day', async () => {
    const clock = new FakeClock();
    const kv = await openSqliteKvStore(':memory:', { clock });
    const log = () =>
      new KvDeliveryLog(kv, new DeliveryLog({ clock, retainMs: DAY, maxEntries: 100 }), {
        clock,
        retainMs: DAY,
      });
    const first = log();
    expect(await first.record('github', 'd-1')).toBe(true);
    expect(await first.record('github', 'd-1')).toBe(false);
    expect(await first.record('generic', 'd-1')).toBe(true);
    const restarted = log();
    expect(await restarted.record('github', 'd-1')).toBe(false);
    // Forgotten (refused before it changed anything): its sender may send it again.
    await restarted.forget('github', 'd-1');
    expect(await log().record('github', 'd-1')).toBe(true);
    // Two days on, the lease has ended and the key with it.
    await clock.advance(2 * DAY);
    expect(await log().record('github', 'd-1')).toBe(true);
    expect((await kv.range('/deliveries/')).entries.map((e) => e.key)).toEqual(['/deliveries/github/d-1']);
    await kv.close();
  });
});
