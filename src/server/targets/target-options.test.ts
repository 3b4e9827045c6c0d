import { describe, expect, it } from 'vitest';
import { DEFAULT_ROLLOUT_OPTIONS } from '../../rollout/index.js';
import type { RolloutSettings } from '../rollouts/rollout-run.js';
import { applyOptions } from './target-options.js';

const none: RolloutSettings = { options: DEFAULT_ROLLOUT_OPTIONS, endpoints: {} };

describe('applyOptions', () => {
  it('changes only the fields given; a controller keeps its timeout and approval point unless given', () => {
    const first = applyOptions(none, {
      batch: { percent: 10 },
      soakMs: 5_000,
      canary: { size: { count: 2 } },
      controllers: { approval: { url: 'https://a.example/x', timeoutMs: 60_000, at: 'after-canary' } },
    });
    expect(first.options).toMatchObject({
      batch: { percent: 10 },
      soakMs: 5_000,
      deadlineMs: DEFAULT_ROLLOUT_OPTIONS.deadlineMs,
      canary: { size: { count: 2 }, pauseMs: 300_000, analysis: false },
      controllers: { approval: { timeoutMs: 60_000, at: 'after-canary' } },
    });
    expect(first.endpoints).toEqual({ approval: 'https://a.example/x' });
    const second = applyOptions(first, {
      canary: { pauseMs: 1_000 },
      controllers: { approval: { url: 'https://b.example/y' } },
    });
    expect(second.options).toMatchObject({
      batch: { percent: 10 },
      soakMs: 5_000,
      canary: { size: { count: 2 }, pauseMs: 1_000 },
      controllers: { approval: { timeoutMs: 60_000, at: 'after-canary' } },
    });
    expect(second.endpoints).toEqual({ approval: 'https://b.example/y' });
  });

  it('null removes an optional field, and its controller URL with it', () => {
    const withController = applyOptions(none, {
      maxUnavailable: { count: 1 },
      controllers: { targetMonitor: { url: 'https://m.example/' } },
    });
    const cleared = applyOptions(withController, {
      maxUnavailable: null,
      controllers: { targetMonitor: null },
    });
    expect([
      cleared.options.maxUnavailable,
      cleared.options.controllers.targetMonitor,
      cleared.endpoints,
    ]).toEqual([null, null, {}]);
  });

  it('reports every problem of the result with its path under body.options, as FERRY_E_USAGE', () => {
    let error: unknown;
    try {
      applyOptions(none, { batch: { percent: 0 }, successPercent: 120, mode: 'replace' });
    } catch (caught) {
      error = caught;
    }
    expect(error).toMatchObject({ code: 'FERRY_E_USAGE' });
    expect((error as Error).message).toMatch(
      /^invalid request: body\.options\.batch: .*; body\.options\.successPercent: .*; body\.options\.controllers\.selection: expected a selection controller/,
    );
  });
});
