import { afterEach, describe, expect, it } from 'vitest';
import { FakeClock } from '../../lib/clock.js';
import { silentLogger } from '../../lib/logger.js';
import { DEFAULT_ROLLOUT_OPTIONS } from '../../rollout/index.js';
import type { KvStore } from '../../store/kv/kv.js';
import { openSqliteKvStore } from '../../store/kv/sqlite-kv.js';
import { KvReleaseVerdicts } from './kv-verdicts.js';
import { RecentDecisions } from './recent-decisions.js';
import { RolloutRuns } from './rollout-runs.js';

/** The fake clocks' start (FakeClock's default). */
const NOW = 1_000_000;
const stores: KvStore[] = [];
afterEach(async () => {
  for (const kv of stores.splice(0)) await kv.close();
});

async function registry(kv?: KvStore) {
  const clock = new FakeClock();
  const store = kv ?? (await openSqliteKvStore(':memory:', { clock }));
  if (kv === undefined) stores.push(store);
  const told: string[] = [];
  const runs = new RolloutRuns({
    kind: 'things',
    kv: store,
    clock,
    logger: silentLogger(),
    tickMs: 1_000,
    verdicts: new KvReleaseVerdicts(store),
    decisions: new RecentDecisions({ clock }),
    seed: ([group = '', name = '']) => ({
      app: name,
      env: group,
      options: DEFAULT_ROLLOUT_OPTIONS,
      lkg: 'v1',
    }),
    driver: (key) => ({
      assign: (target, version) => {
        told.push(`${key.join('/')}: ${target} ${version}`);
        return Promise.resolve();
      },
    }),
  });
  return { runs, told, kv: store, clock };
}

describe('RolloutRuns', () => {
  it('keys are data: __proto__ and constructor are names like any other', async () => {
    const { runs, clock } = await registry();
    const proto = runs.open(['__proto__', 'constructor']);
    await proto.report([{ name: 'toString', at: clock.now(), version: 'v1', healthy: true }]);
    expect(runs.get(['__proto__', 'constructor'])).toBe(proto);
    expect(runs.get(['__proto__', 'x'])).toBeUndefined();
    expect(await runs.find(['constructor', '__proto__'])).toBeNull();
    expect(
      (await runs.list()).map((l) => [l.key, l.record.state.app, l.record.state.targets.length]),
    ).toEqual([[['__proto__', 'constructor'], 'constructor', 1]]);
    await runs.close();
  });

  it('resumes every rollout of its kind the store holds, and none of another kind', async () => {
    const first = await registry();
    await first.runs.open(['a', 'web']).report([{ name: 'h1', at: NOW, version: 'v1', healthy: true }]);
    await first.runs.open(['b', 'api']).report([{ name: 'h2', at: NOW, version: 'v1', healthy: true }]);
    await first.kv.put('/rollouts/other/x', '{}');
    await first.runs.close();
    const again = await registry(first.kv);
    await again.runs.start();
    expect(again.told.sort()).toEqual(['a/web: h1 v1', 'b/api: h2 v1']);
    expect(again.runs.get(['a', 'web'])?.current?.log.at(-1)?.decision.kind).toBe('recovered');
    await again.runs.close();
    expect(() => again.runs.open(['c', 'new'])).toThrow(/closed/);
  });
});
