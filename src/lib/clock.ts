/**
 * Time as a dependency: everything that waits, retries or times out takes a Clock, so its logic is
 * tested with a fake one (advance, run due timers) and real timers are only wiring.
 */
export interface Clock {
  now(): number;
  setTimeout(callback: () => void, ms: number): TimerHandle;
  clearTimeout(handle: TimerHandle): void;
  setInterval(callback: () => void, ms: number): TimerHandle;
  clearInterval(handle: TimerHandle): void;
}

export type TimerHandle = { readonly __timer: true } | NodeJS.Timeout;

/**
 * The real clock. Its timers never hold the process open (unref): the daemon's servers and a
 * command's own work do that, and a pending retry must not keep `ferry` from exiting.
 */
export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout: (callback, ms) => setTimeout(callback, ms).unref(),
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
  setInterval: (callback, ms) => setInterval(callback, ms).unref(),
  clearInterval: (handle) => clearInterval(handle as NodeJS.Timeout),
};

/**
 * Resolves after `ms` on `clock`; rejects with the signal's reason when it aborts first (the timer
 * is then cleared, so nothing is left pending).
 */
export function sleep(clock: Clock, ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(asError(signal.reason));
    const onAbort = () => {
      clock.clearTimeout(timer);
      reject(asError(signal?.reason));
    };
    const timer = clock.setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** Lets every pending promise chain run (they run before the event loop's check phase). */
function settle(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

function asError(reason: unknown): Error {
  return reason instanceof Error ? reason : new Error(String(reason));
}

interface FakeTimer {
  at: number;
  readonly callback: () => void;
  /** Set for an interval: it runs again this long after each run. */
  readonly every: number | null;
}

/** A clock for tests: time moves only when advanced; due timers then run in order. */
export class FakeClock implements Clock {
  private time: number;
  private readonly timers = new Map<number, FakeTimer>();
  private nextId = 1;

  constructor(start = 1_000_000) {
    this.time = start;
  }

  now(): number {
    return this.time;
  }

  setTimeout(callback: () => void, ms: number): TimerHandle {
    return this.add({ at: this.time + Math.max(0, ms), callback, every: null });
  }

  clearTimeout(handle: TimerHandle): void {
    this.timers.delete((handle as unknown as { id: number }).id);
  }

  setInterval(callback: () => void, ms: number): TimerHandle {
    // Node runs a 0 ms interval every 1 ms; so does this clock, which also keeps advance() finite.
    const every = Math.max(1, ms);
    return this.add({ at: this.time + every, callback, every });
  }

  clearInterval(handle: TimerHandle): void {
    this.clearTimeout(handle);
  }

  /**
   * Moves time forward by ms, running every timer that falls due, earliest first (an interval as
   * many times as it falls due). Before each timer, pending promise chains settle (as they would
   * in the real time that passes), so what the last timer or the test started has happened.
   */
  async advance(ms: number): Promise<void> {
    const until = this.time + ms;
    for (;;) {
      await settle();
      const due = [...this.timers.entries()]
        .filter(([, t]) => t.at <= until)
        .sort((a, b) => a[1].at - b[1].at || a[0] - b[0])[0];
      if (due === undefined) break;
      const [id, timer] = due;
      this.time = Math.max(this.time, timer.at);
      if (timer.every === null) this.timers.delete(id);
      else timer.at += timer.every;
      timer.callback();
    }
    this.time = until;
  }

  /** How many timers are pending (intervals included). */
  get pending(): number {
    return this.timers.size;
  }

  /** When the earliest pending timer falls due, or null when none is pending. */
  get nextDueAt(): number | null {
    let next: number | null = null;
    for (const timer of this.timers.values()) if (next === null || timer.at < next) next = timer.at;
    return next;
  }

  private add(timer: FakeTimer): TimerHandle {
    const id = this.nextId++;
    this.timers.set(id, timer);
    return { __timer: true, id } as unknown as TimerHandle;
  }
}
