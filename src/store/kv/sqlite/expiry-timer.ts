import type { Clock, TimerHandle } from '../../../lib/clock.js';

/** How soon a sweep that failed (a full disk) is tried again. */
const RETRY_MS = 1_000;

/**
 * One timer for the earliest lease expiry, on the store's clock (the system clock's timers are
 * unref'd: a pending expiry never keeps a process alive). A renewal moves the expiry later: the
 * timer then fires early, the sweep finds nothing due, and the store arms it again for the next.
 */
export class ExpiryTimer {
  #armed: { readonly at: number; readonly timer: TimerHandle } | undefined;
  #stopped = false;
  readonly #clock: Clock;
  readonly #sweep: () => Promise<void>;

  constructor(clock: Clock, sweep: () => Promise<void>) {
    this.#clock = clock;
    this.#sweep = sweep;
  }

  /** Makes sure the timer fires at `at` or earlier. */
  armBy(at: number): void {
    if (this.#stopped || (this.#armed !== undefined && this.#armed.at <= at)) return;
    if (this.#armed !== undefined) this.#clock.clearTimeout(this.#armed.timer);
    const timer = this.#clock.setTimeout(
      () => {
        this.#armed = undefined;
        this.#sweep().catch(() => this.armBy(this.#clock.now() + RETRY_MS));
      },
      Math.max(0, at - this.#clock.now()),
    );
    this.#armed = { at, timer };
  }

  stop(): void {
    this.#stopped = true;
    if (this.#armed !== undefined) this.#clock.clearTimeout(this.#armed.timer);
    this.#armed = undefined;
  }
}
