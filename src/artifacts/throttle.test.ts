import { afterEach, describe, expect, it, vi } from 'vitest';
import { FakeClock } from '../lib/clock.js';
import { randomDelay, throttle } from './throttle.js';

afterEach(() => {
  vi.restoreAllMocks();
});

/** A source whose chunks arrive when the test pushes them. */
function pushedSource() {
  const queue: Buffer[] = [];
  let wake: (() => void) | null = null;
  let ended = false;
  async function* chunks(): AsyncGenerator<Buffer> {
    for (;;) {
      const next = queue.shift();
      if (next) yield next;
      else if (ended) return;
      else await new Promise<void>((resolve) => (wake = resolve));
    }
  }
  const nudge = () => {
    wake?.();
    wake = null;
  };
  return {
    chunks: chunks(),
    push: (bytes: number) => {
      queue.push(Buffer.alloc(bytes));
      nudge();
    },
    end: () => {
      ended = true;
      nudge();
    },
  };
}

/** Consumes a throttled stream, recording when (on the fake clock) each part passed and its size. */
function consume(parts: AsyncIterable<Buffer>, clock: FakeClock) {
  const passed: Array<[at: number, bytes: number]> = [];
  const done = (async () => {
    for await (const part of parts) passed.push([clock.now(), part.length]);
  })();
  return { passed, done };
}

describe('throttle', () => {
  it('passes a big chunk in slices of a tenth of a second, each at its time on the clock', async () => {
    const clock = new FakeClock(0);
    const source = pushedSource();
    const { passed, done } = consume(
      throttle(source.chunks, 1_000, new AbortController().signal, clock),
      clock,
    );
    source.push(1_000);
    source.end();
    await clock.advance(99);
    expect(passed).toEqual([]);
    await clock.advance(1);
    expect(passed).toEqual([[100, 100]]);
    await clock.advance(900);
    await done;
    expect(passed).toEqual(Array.from({ length: 10 }, (_, i) => [(i + 1) * 100, 100]));
  });

  it('keeps the average since the start: after a stalled source it catches up to the pace, never beyond', async () => {
    const clock = new FakeClock(0);
    const source = pushedSource();
    const { passed, done } = consume(
      throttle(source.chunks, 1_000, new AbortController().signal, clock),
      clock,
    );
    await clock.advance(500);
    // 500 ms of budget unused: 500 bytes may pass at once, the rest at the pace.
    source.push(700);
    source.end();
    await clock.advance(0);
    expect(passed.map(([at]) => at)).toEqual([500, 500, 500, 500, 500]);
    await clock.advance(200);
    await done;
    expect(passed.slice(5)).toEqual([
      [600, 100],
      [700, 100],
    ]);
    expect(passed.reduce((sum, [, bytes]) => sum + bytes, 0)).toBe(700);
  });

  it('stops waiting at once when aborted, leaving no timer behind', async () => {
    const clock = new FakeClock(0);
    const source = pushedSource();
    const controller = new AbortController();
    const { done } = consume(throttle(source.chunks, 10, controller.signal, clock), clock);
    source.push(100);
    await clock.advance(0);
    expect(clock.pending).toBe(1);
    controller.abort(new Error('operator said stop'));
    await expect(done).rejects.toThrow('operator said stop');
    expect(clock.pending).toBe(0);
  });
});

describe('randomDelay', () => {
  it('waits the drawn share of maxMs on the clock', async () => {
    const clock = new FakeClock(0);
    vi.spyOn(Math, 'random').mockReturnValue(0.5);
    let waited = false;
    const waiting = randomDelay(400, new AbortController().signal, clock).then(() => (waited = true));
    await clock.advance(199);
    expect(waited).toBe(false);
    await clock.advance(1);
    await waiting;
    expect(waited).toBe(true);
  });

  it('does not wait for 0, and an abort ends the wait at once', async () => {
    const clock = new FakeClock(0);
    await randomDelay(0, new AbortController().signal, clock);
    expect(clock.pending).toBe(0);
    const controller = new AbortController();
    const waiting = randomDelay(2 ** 31 - 1, controller.signal, clock);
    controller.abort(new Error('operator said stop'));
    await expect(waiting).rejects.toThrow('operator said stop');
    expect(clock.pending).toBe(0);
  });
});
