import { describe, expect, it } from 'vitest';
import { planRestart } from './restart-policy.js';
import { DEFAULT_RESTART_POLICY as policy } from './types.js';

describe('planRestart', () => {
  it.each([
    {
      name: 'first crash waits the initial delay',
      recent: [],
      at: 1_000,
      ranMs: 100,
      delayMs: 500,
      crashLoop: false,
    },
    {
      name: 'the delay doubles per restart in the window',
      recent: [0, 1_000],
      at: 3_000,
      ranMs: 100,
      delayMs: 2_000,
      crashLoop: false,
    },
    {
      name: 'the delay stops at the maximum',
      recent: [0, 1, 2, 3, 4],
      at: 10,
      ranMs: 1,
      delayMs: 30_000,
      crashLoop: true,
    },
    {
      name: 'the sixth restart within a minute is a crash loop',
      recent: [0, 1_000, 2_000, 4_000, 8_000],
      at: 16_000,
      ranMs: 100,
      delayMs: 30_000,
      crashLoop: true,
    },
    {
      name: 'five restarts within a minute are not',
      recent: [0, 1_000, 2_000, 4_000],
      at: 8_000,
      ranMs: 100,
      delayMs: 8_000,
      crashLoop: false,
    },
    {
      name: 'restarts older than the window do not count',
      recent: [0, 1_000, 2_000, 4_000, 8_000],
      at: 68_500,
      ranMs: 100,
      delayMs: 500,
      crashLoop: false,
    },
    {
      name: 'a process that ran a whole window starts afresh',
      recent: [0, 1, 2, 3, 4, 5],
      at: 60_010,
      ranMs: 60_000,
      delayMs: 500,
      crashLoop: false,
    },
  ])('$name', ({ recent, at, ranMs, delayMs, crashLoop }) => {
    const plan = planRestart(recent, { at, ranMs }, policy);
    expect(plan).toMatchObject({ delayMs, crashLoop });
    expect(plan.recent.at(-1)).toBe(at);
  });

  it('caps the backoff below a crash loop when the policy allows many restarts', () => {
    const tolerant = { ...policy, crashLoopRestarts: 100, maxDelayMs: 3_000 };
    expect(planRestart([1, 2, 3, 4, 5, 6], { at: 7, ranMs: 1 }, tolerant).delayMs).toBe(3_000);
  });
});
