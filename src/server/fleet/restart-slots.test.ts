import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FakeClock } from '../../lib/clock.js';
import { silentLogger } from '../../lib/logger.js';
import { openSqliteKvStore, type SqliteKvStore } from '../../store/kv/sqlite-kv.js';
import { RestartSlots, restartSlotKey } from './restart-slots.js';

let clock: FakeClock;
let kv: SqliteKvStore;
let slots: RestartSlots;

const holder = (owner: string) => ({ owner, reason: 'ferry restart by alice', ttlMs: 30_000 });

beforeEach(async () => {
  clock = new FakeClock(Date.UTC(2026, 10, 28, 10));
  kv = await openSqliteKvStore(':memory:', { clock });
  slots = new RestartSlots({ kv, clock, logger: silentLogger() });
});

afterEach(async () => {
  await kv.close();
});

describe('restart slots in the key-value store', () => {
  it('two takers race for one slot: exactly one wins; the slot names its owner and reason', async () => {
    const [a, b] = await Promise.all([
      slots.take('hello', 'production', 1, holder('host-a')),
      slots.take('hello', 'production', 1, holder('host-b')),
    ]);
    expect([a, b].filter((s) => s !== null)).toHaveLength(1);
    const listed = await slots.list('hello', 'production');
    expect(listed).toEqual([
      {
        slot: 0,
        owner: a !== null ? 'host-a' : 'host-b',
        reason: 'ferry restart by alice',
        since: clock.now(),
      },
    ]);
    const entry = await kv.get(restartSlotKey('hello', 'production', 0));
    expect(entry?.lease).toBeDefined();
  });

  it('K = 2 lets two hosts restart at once, not three; a release frees a slot', async () => {
    const a = await slots.take('hello', 'production', 2, holder('host-a'));
    const b = await slots.take('hello', 'production', 2, holder('host-b'));
    const c = await slots.take('hello', 'production', 2, holder('host-c'));
    expect(a?.slot).toBe(0);
    expect(b?.slot).toBe(1);
    expect(c).toBeNull();
    // Other apps and environments have slots of their own.
    expect(await slots.take('hello', 'staging', 2, holder('host-c'))).not.toBeNull();
    await a!.release();
    const again = await slots.take('hello', 'production', 2, holder('host-c'));
    expect(again?.slot).toBe(0);
    expect((await slots.list('hello', 'production')).map((s) => s.owner)).toEqual(['host-c', 'host-b']);
  });

  it('held slots are renewed past their TTL; a slot nobody renews (its server died) frees itself', async () => {
    const held = await slots.take('hello', 'production', 1, holder('host-a'));
    expect(held).not.toBeNull();
    await clock.advance(90_000);
    expect(await slots.list('hello', 'production')).toHaveLength(1);
    await held!.release();
    expect(await slots.list('hello', 'production')).toEqual([]);
    // A server that dies mid-restart: its timers never run again (a clock nobody advances).
    const dying = new RestartSlots({ kv, clock: new FakeClock(clock.now()), logger: silentLogger() });
    expect(await dying.take('hello', 'production', 1, holder('host-b'))).not.toBeNull();
    expect(await slots.take('hello', 'production', 1, holder('host-c'))).toBeNull();
    await clock.advance(30_001);
    expect(await slots.list('hello', 'production')).toEqual([]);
    expect((await slots.take('hello', 'production', 1, holder('host-c')))?.slot).toBe(0);
  });
});
