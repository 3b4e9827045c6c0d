import { describe, expect, it } from 'vitest';
import { planWorkerRestart } from './worker-restarts.js';

describe('router worker restarts', () => {
  it('restarts the first death at once, then backs off, and calls six deaths in a minute a crash loop', () => {
    let recent: readonly number[] = [];
    const delays: number[] = [];
    const loops: boolean[] = [];
    for (let i = 0; i < 7; i++) {
      const plan = planWorkerRestart(recent, { at: 1_000_000 + i * 1000, ranMs: 500 });
      recent = plan.recent;
      delays.push(plan.delayMs);
      loops.push(plan.crashLoop);
    }
    expect(delays).toEqual([0, 500, 1000, 2000, 4000, 30_000, 30_000]);
    expect(loops).toEqual([false, false, false, false, false, true, true]);
  });

  it('forgets old deaths: a worker that ran for the whole window restarts at once', () => {
    const plan = planWorkerRestart([1, 2, 3, 4, 5], { at: 1_000_000, ranMs: 60_000 });
    expect(plan).toMatchObject({ delayMs: 0, crashLoop: false });
  });
});
