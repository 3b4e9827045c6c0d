import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { FakeClock } from '../../lib/clock.js';
import type { KvStore } from '../../store/kv/kv.js';
import { openSqliteKvStore } from '../../store/kv/sqlite-kv.js';
import { parseRecord } from './rollout-record.js';
import type { RolloutSettings } from './rollout-run.js';
import { runHarness, type RunHarness } from './test-support/fleet.js';

/**
 * nixmade/orchestrator's behaviour (BEHAVIOUR.md) end to end through the runtime: the engine's
 * steps persisted in a real SQLite key-value store, assignments through the TargetDriver, ticks
 * from a fake clock.
 */

const SOAK = 60_000;
const open: RunHarness[] = [];
const dirs: string[] = [];

async function harness(...args: Parameters<typeof runHarness>): Promise<RunHarness> {
  const h = await runHarness(...args);
  open.push(h);
  return h;
}

afterEach(async () => {
  for (const h of open.splice(0)) await h.close();
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** A store whose methods are the given one's, each replaceable on its own. */
function delegateTo(kv: KvStore): { -readonly [K in keyof KvStore]: KvStore[K] } {
  return {
    revision: () => kv.revision(),
    get: (key) => kv.get(key),
    range: (prefix, options) => kv.range(prefix, options),
    txn: (txn) => kv.txn(txn),
    put: (key, value, options) => kv.put(key, value, options),
    delete: (key) => kv.delete(key),
    watch: (prefix, from, listener, onError) => kv.watch(prefix, from, listener, onError),
    grantLease: (ttlMs) => kv.grantLease(ttlMs),
    keepAlive: (id) => kv.keepAlive(id),
    revokeLease: (id) => kv.revokeLease(id),
    compact: (revision) => kv.compact(revision),
    close: () => kv.close(),
  };
}

function statusOf(h: RunHarness, name: string): string | undefined {
  return h.run.current?.targets.find((t) => t.name === name)?.status;
}

describe('RolloutRun: nixmade scenarios through the runtime', () => {
  it('3 targets one at a time, each soaking on v2 before the next starts; LKG v2', async () => {
    const h = await harness({ names: ['a', 'b', 'c'], options: { batch: { count: 1 }, soakMs: SOAK } });
    await h.report();
    await h.run.deploy({ version: 'v2', actor: 'ops' });
    // [s since the deploy, targets told v2, last known good]
    const table: [number, number, string][] = [
      [0, 1, 'v1'],
      [59, 1, 'v1'],
      [60, 2, 'v1'],
      [120, 2, 'v1'],
      [121, 3, 'v1'],
      [181, 3, 'v1'],
      [182, 3, 'v2'],
    ];
    for (let second = 0; second <= 182; second++) {
      const state = await h.report(second === 0 ? 0 : 1_000);
      const row = table.find(([at]) => at === second);
      if (row === undefined) continue;
      const told = state.targets.filter((t) => t.assigned === 'v2').length;
      expect([told, state.lkg], `at ${second} s`).toEqual([row[1], row[2]]);
    }
    expect(h.run.current!.status).toBe('succeeded');
    expect(h.fleet.runningCount('v2')).toBe(3);
    expect(h.fleet.assignments.filter((a) => a.version === 'v2').map((a) => a.target)).toEqual([
      'a',
      'b',
      'c',
    ]);
    expect(await h.verdicts.list(h.run.storeKey)).toEqual([
      expect.objectContaining({ version: 'v2', verdict: 'good' }),
    ]);
    expect(h.decided('batch-started').map((b) => b.targets)).toEqual([['a'], ['b'], ['c']]);
  });

  it('a target erroring past its deadline makes v2 LKB; every target returns to v1, one at a time', async () => {
    const h = await harness({
      names: ['a', 'b', 'c', 'd'],
      options: { batch: { count: 1 }, successPercent: 75, soakMs: SOAK, deadlineMs: 120_000 },
    });
    await h.report();
    await h.run.deploy({ version: 'v2' });
    await h.reportFor(2 * SOAK + 2_000);
    expect(h.fleet.assignments.filter((a) => a.version === 'v2').map((a) => a.target)).toEqual([
      'a',
      'b',
      'c',
    ]);
    h.fleet.hosts.get('c')!.healthy = false; // v2 does not work on c
    await h.report(1_000);
    expect([h.run.current!.lkb, statusOf(h, 'c')]).toEqual([null, 'converging']);
    // Only the clock moves now: c's deadline passes on a tick, without any report.
    const deadline = h.run.current!.targets.find((t) => t.name === 'c')!.assignedAt! + 120_000;
    await h.advance(deadline - h.clock.now() + 1_000);
    expect(h.run.current!.lkb).toBe('v2');
    expect(h.run.current!.status).toBe('rolling-back');
    expect(h.fleet.hosts.get('c')!.version).toBe('v1'); // told v1 first: the failing one
    h.fleet.hosts.get('c')!.healthy = true;
    await h.reportFor(4 * SOAK);
    expect(h.run.current!.status).toBe('rolled-back');
    expect(h.fleet.runningCount('v1')).toBe(4);
    const back = h.decided('batch-started').filter((b) => b.batchKind === 'rollback');
    expect(back.map((b) => b.targets)).toEqual([['c'], ['a'], ['b']]);
    expect((await h.verdicts.list(h.run.storeKey)).map((v) => `${v.version} ${v.verdict}`)).toEqual([
      'v2 bad',
    ]);
  });

  it('several namespaces on one store are independent', async () => {
    const clock = new FakeClock();
    const kv = await openSqliteKvStore(':memory:', { clock });
    try {
      const options = { batch: { count: 1 }, soakMs: SOAK };
      const web = await harness({
        names: ['a', 'b'],
        options,
        kv,
        clock,
        key: ['test', 'web', 'production'],
      });
      const api = await harness({ names: ['a', 'b'], options, kv, clock, key: ['test', 'api', 'staging'] });
      await web.report();
      await api.report();
      await web.run.deploy({ version: 'v2' });
      await api.run.deploy({ version: 'v2' });
      api.fleet.broken.add('v2');
      for (let second = 0; second < 6 * SOAK; second += 1_000) {
        await web.report(1_000);
        await api.report();
      }
      const [w, a] = [web.run.current!, api.run.current!];
      expect([w.status, w.lkg, w.lkb]).toEqual(['succeeded', 'v2', null]);
      expect([a.status, a.lkg, a.lkb]).toEqual(['rolled-back', 'v1', 'v2']);
      const stored = await kv.range('/rollouts/test/');
      expect(stored.entries.map((e) => e.key)).toEqual([
        '/rollouts/test/api/staging',
        '/rollouts/test/web/production',
      ]);
    } finally {
      for (const h of open.splice(0)) await h.run.close();
      await kv.close();
    }
  });
});

describe('RolloutRun: persistence', () => {
  it('persists each state before its effects run', async () => {
    const h = await harness({ names: ['a', 'b'], options: { batch: { count: 1 } } });
    await h.report();
    const seen: string[] = [];
    h.fleet.onAssign = async (target, version) => {
      const entry = await h.kv.get(h.run.storeKey);
      const stored = parseRecord(entry!.value, h.run.storeKey).state.targets.find((t) => t.name === target);
      seen.push(`${target} ${version} stored ${stored?.assigned}`);
    };
    await h.run.deploy({ version: 'v2' });
    expect(seen).toEqual(['a v2 stored v2']);
  });

  it('writes nothing for a tick with nothing due', async () => {
    const h = await harness({ names: ['a', 'b'], options: { batch: { count: 1 }, soakMs: SOAK } });
    await h.report();
    await h.run.deploy({ version: 'v2' });
    await h.report(); // a soaking on v2
    const before = await h.kv.revision();
    await h.advance(10_000); // ten ticks within the soak
    expect(await h.kv.revision()).toBe(before);
    await h.report(SOAK);
    expect(await h.kv.revision()).toBeGreaterThan(before);
  });

  it('survives a restart: a new run over the same store file resumes where the last one wrote', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'ferry-rollout-run-'));
    dirs.push(dir);
    const file = path.join(dir, 'kv.db');
    const clock = new FakeClock();
    let kv: KvStore = await openSqliteKvStore(file, { clock });
    const names = ['a', 'b', 'c', 'd', 'e', 'f'];
    const h = await runHarness({ names, options: { batch: { count: 2 }, soakMs: SOAK }, kv, clock });
    try {
      await h.report();
      await h.run.deploy({ version: 'v2' });
      await h.reportFor(SOAK + 1_000); // a and b succeeded; c and d told v2
      const before = h.run.current!;
      expect(before.targets.filter((t) => t.assigned === 'v2').map((t) => t.name)).toEqual([
        'a',
        'b',
        'c',
        'd',
      ]);
      // The server stops; its store closes; a new one opens the same file.
      await h.run.close();
      await kv.close();
      kv = await openSqliteKvStore(file, { clock });
      const again = await runHarness({ names, options: { batch: { count: 2 }, soakMs: SOAK }, kv, clock });
      for (const [name, host] of h.fleet.hosts) again.fleet.hosts.set(name, { ...host });
      expect(again.run.current).toMatchObject({ rolling: 'v2', status: 'running', batches: before.batches });
      // recover: every target is told its release again, as the state has it.
      expect(again.fleet.assignments).toEqual(
        names.map((target) => ({ target, version: ['a', 'b', 'c', 'd'].includes(target) ? 'v2' : 'v1' })),
      );
      expect(again.decided('recovered')).toHaveLength(1);
      await again.reportFor(3 * SOAK);
      expect(again.run.current).toMatchObject({ status: 'succeeded', lkg: 'v2' });
      expect(again.fleet.runningCount('v2')).toBe(6);
      await again.run.close();
    } finally {
      await kv.close();
    }
  });
});

describe('RolloutRun: effects that fail', () => {
  it('an assignment that fails is sent again at the next tick, unless a newer one replaced it', async () => {
    const h = await harness({ names: ['a', 'b'], options: { batch: { count: 1 }, soakMs: SOAK } });
    await h.report();
    let down = true;
    h.fleet.onAssign = () => (down ? Promise.reject(new Error('host unreachable')) : Promise.resolve());
    await h.run.deploy({ version: 'v2' });
    expect(h.fleet.hosts.get('a')!.version).toBe('v1');
    await h.advance(1_000); // still down: kept for the next tick
    expect(h.fleet.hosts.get('a')!.version).toBe('v1');
    down = false;
    await h.advance(1_000);
    expect(h.fleet.hosts.get('a')!.version).toBe('v2');
    expect(h.fleet.assignments.filter((x) => x.version === 'v2')).toEqual([{ target: 'a', version: 'v2' }]);
    await h.advance(5_000); // sent once: nothing more to send
    expect(h.fleet.assignments.filter((x) => x.version === 'v2')).toHaveLength(1);
  });
});

describe('RolloutRun: compare-and-swap', () => {
  it('two runs on one store never both apply a step: the loser steps again on the winner’s state', async () => {
    const clock = new FakeClock();
    const kv = await openSqliteKvStore(':memory:', { clock });
    // Once armed, the next transaction of run A waits until the test lets it go.
    let arm: { held: () => void; release: Promise<void> } | null = null;
    const gatedKv = delegateTo(kv);
    gatedKv.txn = async (txn) => {
      const gate = arm;
      arm = null;
      if (gate !== null) {
        gate.held();
        await gate.release;
      }
      return kv.txn(txn);
    };
    try {
      const options = { batch: { count: 1 } };
      const b = await harness({
        names: ['a', 'b', 'c'],
        options,
        kv,
        clock,
        key: ['test', 'web', 'production'],
      });
      await b.report();
      const a = await harness({
        names: ['a', 'b', 'c'],
        options,
        kv: gatedKv,
        clock,
        key: ['test', 'web', 'production'],
      });
      let release = () => {};
      const held = new Promise<void>((resolve) => {
        arm = { held: resolve, release: new Promise<void>((go) => (release = go)) };
      });
      const aDeploy = a.run.deploy({ version: 'v2', actor: 'alice' });
      await held; // A planned "start v2" from the state both read, and writes it now
      await b.run.deploy({ version: 'v3', actor: 'bob' });
      release();
      const after = await aDeploy;
      // A's first plan lost: it stepped its deploy again on B's state, where v3 rolls out.
      expect(after).toMatchObject({ rolling: 'v3', queued: { version: 'v2', actor: 'alice' } });
      expect(
        [...a.decided('rollout-started'), ...b.decided('rollout-started')].map((d) => d.version),
      ).toEqual(['v3']);
      expect(a.decided('deploy-queued').map((d) => d.version)).toEqual(['v2']);
      // Only the winner's assignment went out; A's lost plan ran no effect.
      expect([...a.fleet.assignments, ...b.fleet.assignments].filter((x) => x.version !== 'v1')).toEqual([
        { target: 'a', version: 'v3' },
      ]);
      const stored = parseRecord((await kv.get(b.run.storeKey))!.value, b.run.storeKey).state;
      expect(stored).toEqual(after);
    } finally {
      for (const h of open.splice(0)) await h.run.close();
      await kv.close();
    }
  });

  it('reports sent through two runs at once are all kept', async () => {
    const clock = new FakeClock();
    const kv = await openSqliteKvStore(':memory:', { clock });
    try {
      const names = Array.from({ length: 20 }, (_, i) => `t${String(i).padStart(2, '0')}`);
      const a = await harness({ names: [], kv, clock });
      const b = await harness({ names: [], kv, clock });
      await Promise.all(
        names.map((name, i) =>
          (i % 2 === 0 ? a : b).run.report([{ name, at: clock.now(), version: 'v1', healthy: true }]),
        ),
      );
      const stored = parseRecord((await kv.get(a.run.storeKey))!.value, a.run.storeKey).state;
      expect(stored.targets.map((t) => t.name)).toEqual(names);
    } finally {
      for (const h of open.splice(0)) await h.run.close();
      await kv.close();
    }
  });
});

describe('RolloutRun: refusals change nothing', () => {
  it('refuses the last known bad release without force, and commands that do not apply', async () => {
    const h = await harness({ names: ['a'], options: { batch: { count: 1 }, soakMs: SOAK } });
    await h.report();
    await h.run.deploy({ version: 'v2' });
    h.fleet.broken.add('v2');
    await h.reportFor(4 * SOAK);
    expect(h.run.current).toMatchObject({ lkb: 'v2', status: 'rolled-back' });
    const revision = await h.kv.revision();
    await expect(h.run.deploy({ version: 'v2' })).rejects.toMatchObject({ code: 'FERRY_E_RELEASE_BAD' });
    await expect(h.run.command('pause')).rejects.toMatchObject({
      code: 'FERRY_E_ILLEGAL_STATE',
      message: expect.stringContaining('only a running rollout can be paused'),
    });
    expect(await h.kv.revision()).toBe(revision);
    h.fleet.broken.clear();
    await expect(h.run.deploy({ version: 'v2', force: true })).resolves.toMatchObject({ rolling: 'v2' });
  });

  it('takes new options only with a deploy that starts a rollout', async () => {
    const h = await harness({ names: ['a', 'b'], options: { batch: { count: 1 }, soakMs: SOAK } });
    await h.report();
    const bigger = (current: RolloutSettings): RolloutSettings => ({
      options: { ...current.options, batch: { count: 2 } },
      endpoints: current.endpoints,
    });
    const started = await h.run.deploy({ version: 'v2', configure: bigger });
    expect(started.options.batch).toEqual({ count: 2 });
    expect(h.fleet.assignments.filter((a) => a.version === 'v2')).toHaveLength(2);
    const revision = await h.kv.revision();
    const smaller = (current: RolloutSettings): RolloutSettings => ({
      options: { ...current.options, batch: { count: 1 } },
      endpoints: current.endpoints,
    });
    await expect(h.run.deploy({ version: 'v3', configure: smaller })).rejects.toMatchObject({
      code: 'FERRY_E_ILLEGAL_STATE',
      message: expect.stringContaining('send them with force'),
    });
    expect(await h.kv.revision()).toBe(revision);
    const forced = await h.run.deploy({ version: 'v3', force: true, configure: smaller });
    expect([forced.rolling, forced.options.batch]).toEqual(['v3', { count: 1 }]);
  });
});
