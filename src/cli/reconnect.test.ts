import { describe, expect, it } from 'vitest';
import { FerryError } from '../errors/ferry-error.js';
import { FakeClock, sleep } from '../lib/clock.js';
import { Reconnector } from './reconnect.js';

const unreachable = () => new FerryError('FERRY_E_DAEMON_UNREACHABLE', 'no Ferry daemon answers');

function reconnector(opts: { maxAttempts?: number; giveUpAfterMs?: number } = {}) {
  const clock = new FakeClock();
  const pauses: number[] = [];
  const r = new Reconnector({
    ...opts,
    clock: {
      now: () => clock.now(),
      sleep: (ms, signal) => {
        pauses.push(ms);
        return sleep(clock, ms, signal);
      },
    },
  });
  /** One lost connection: resolves once its pause (2 s at most) is over, rejects when given up. */
  const attempt = async (): Promise<void> => {
    const retrying = r.retry(unreachable());
    retrying.catch(() => undefined);
    await clock.advance(2_000);
    return retrying;
  };
  return { r, clock, pauses, attempt };
}

describe('Reconnector', () => {
  it('backs off 250 ms doubling up to 2 s, and starts afresh once connected', async () => {
    const { r, pauses, attempt } = reconnector();
    for (let i = 0; i < 6; i++) await attempt();
    expect(pauses).toEqual([250, 500, 1000, 2000, 2000, 2000]);
    r.connected();
    await attempt();
    expect(pauses.at(-1)).toBe(250);
  });

  it('gives up with the error after maxAttempts in a row', async () => {
    const { attempt } = reconnector({ maxAttempts: 3, giveUpAfterMs: 10 ** 9 });
    for (let i = 0; i < 3; i++) await attempt();
    await expect(attempt()).rejects.toThrow('no Ferry daemon answers');
  });

  it('gives up once the daemon has been gone for giveUpAfterMs', async () => {
    const { clock, attempt } = reconnector({ giveUpAfterMs: 5_000 });
    await attempt();
    await clock.advance(5_000);
    await expect(attempt()).rejects.toThrow('no Ferry daemon answers');
  });

  it('does not retry other errors, nor after the signal aborted', async () => {
    const { r } = reconnector();
    const other = new FerryError('FERRY_E_DEPLOYMENT_UNKNOWN', 'no deployment d-1');
    await expect(r.retry(other)).rejects.toBe(other);
    const abort = new AbortController();
    abort.abort(new Error('interrupted'));
    await expect(r.retry(unreachable(), abort.signal)).rejects.toThrow('interrupted');
  });
});
