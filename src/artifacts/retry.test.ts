import { describe, expect, it } from 'vitest';
import { FakeClock } from '../lib/clock.js';
import { retryWait, withRetries } from './retry.js';
import { sourceError } from './sources/index.js';

const transient = () => sourceError('GET x: expected HTTP 200, got 503', { where: 'x', retryable: true });
const missing = () =>
  sourceError('GET x: expected HTTP 200, got 404', { where: 'x', retryable: false, missing: true });

describe('withRetries', () => {
  it('waits retry_wait, doubling, capped, between attempts of a transient failure', async () => {
    const clock = new FakeClock(0);
    const at: number[] = [];
    const done = withRetries(
      () => {
        at.push(clock.now());
        return at.length < 5 ? Promise.reject(transient()) : Promise.resolve('ok');
      },
      { retries: 5, waitMs: 100, maxWaitMs: 300, signal: new AbortController().signal, clock },
    );
    await clock.advance(10_000);
    expect(await done).toBe('ok');
    expect(at).toEqual([0, 100, 300, 600, 900]);
  });

  it('gives up after its retries, saying how many attempts it made', async () => {
    const clock = new FakeClock(0);
    let attempts = 0;
    const done = withRetries(() => (attempts++, Promise.reject(transient())), {
      retries: 2,
      waitMs: 10,
      signal: new AbortController().signal,
      clock,
    }).catch((error: unknown) => error as Error);
    await clock.advance(1_000);
    expect((await done).message).toMatch(/\(gave up after 3 attempts\)$/);
    expect(attempts).toBe(3);
  });

  it('fails a permanent error at once, with no timer left behind', async () => {
    const clock = new FakeClock(0);
    let attempts = 0;
    const error = await withRetries(() => (attempts++, Promise.reject(missing())), {
      retries: 3,
      waitMs: 10,
      signal: new AbortController().signal,
      clock,
    }).catch((caught: unknown) => caught as Error);
    expect(error.message).toBe('GET x: expected HTTP 200, got 404');
    expect(attempts).toBe(1);
    expect(clock.pending).toBe(0);
  });

  it('keeps every wait equal when the cap is the first wait (ferry install, as stretcher)', () => {
    expect([1, 2, 3].map((n) => retryWait({ waitMs: 3000, maxWaitMs: 3000 }, n))).toEqual([3000, 3000, 3000]);
    expect([1, 2, 3, 7].map((n) => retryWait({ waitMs: 1000, maxWaitMs: 30_000 }, n))).toEqual([
      1000, 2000, 4000, 30_000,
    ]);
  });
});
