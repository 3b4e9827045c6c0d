import { describe, expect, it } from 'vitest';
import { FakeClock, sleep } from './clock.js';

describe('FakeClock', () => {
  it('runs due timers in time order, intervals as often as they fall due, and nothing early', async () => {
    const clock = new FakeClock(0);
    const ran: string[] = [];
    clock.setTimeout(() => ran.push(`timeout@${clock.now()}`), 250);
    const every = clock.setInterval(() => ran.push(`interval@${clock.now()}`), 100);
    await clock.advance(99);
    expect(ran).toEqual([]);
    await clock.advance(201);
    expect(ran).toEqual(['interval@100', 'interval@200', 'timeout@250', 'interval@300']);
    clock.clearInterval(every);
    await clock.advance(1_000);
    expect(ran).toHaveLength(4);
    expect(clock.pending).toBe(0);
    expect(clock.now()).toBe(1_300);
  });

  it('lets what a timer started settle before the next timer runs', async () => {
    const clock = new FakeClock(0);
    const order: string[] = [];
    clock.setTimeout(() => {
      void Promise.resolve()
        .then(() => undefined)
        .then(() => order.push('chain of the first'));
    }, 10);
    clock.setTimeout(() => order.push('second'), 20);
    await clock.advance(20);
    expect(order).toEqual(['chain of the first', 'second']);
  });
});

describe('sleep', () => {
  it('resolves when the clock passes the time; an abort rejects at once and clears the timer', async () => {
    const clock = new FakeClock(0);
    let slept = false;
    const sleeping = sleep(clock, 1_000).then(() => (slept = true));
    await clock.advance(999);
    expect(slept).toBe(false);
    await clock.advance(1);
    await sleeping;
    expect(slept).toBe(true);

    const controller = new AbortController();
    const aborted = sleep(clock, 60_000, controller.signal);
    expect(clock.pending).toBe(1);
    controller.abort(new Error('shutting down'));
    await expect(aborted).rejects.toThrow('shutting down');
    expect(clock.pending).toBe(0);
  });
});
