import { describe, expect, it } from 'vitest';
import { backoffDelay, DEFAULT_BACKOFF } from './backoff.js';

describe('backoffDelay', () => {
  const policy = { initialMs: 1_000, maxMs: 30_000 };

  it.each([
    // attempt, random, delay: the ceiling doubles up to the cap; the wait is in its upper half
    [0, 0, 500],
    [0, 0.999999, 1_000],
    [1, 0.5, 1_500],
    [2, 0, 2_000],
    [4, 0.5, 12_000],
    [5, 0, 15_000],
    [5, 0.999999, 30_000],
    [6, 0.5, 22_500],
    [60, 0.5, 22_500],
  ])('attempt %i with random %d waits %i ms', (attempt, random, delay) => {
    expect(backoffDelay(attempt, policy, () => random)).toBe(delay);
  });

  it('defaults to 1 s doubling up to 30 s', () => {
    expect(DEFAULT_BACKOFF).toEqual({ initialMs: 1_000, maxMs: 30_000 });
  });
});
