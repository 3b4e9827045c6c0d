import { setTimeout as timersSleep } from 'node:timers/promises';
import { isFerryError } from '../errors/ferry-error.js';

/** Time for the reconnects: the real one by default, a fake one in tests. */
export interface ReconnectClock {
  now(): number;
  /** Resolves after ms; rejects when the signal aborts first. Its timer keeps the process alive. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

export interface ReconnectOptions {
  readonly clock?: ReconnectClock;
  /** The first pause; each next one doubles, up to maxDelayMs. */
  readonly firstDelayMs?: number;
  readonly maxDelayMs?: number;
  /** At most this many attempts in a row without getting through... */
  readonly maxAttempts?: number;
  /** ...and for at most this long since the connection was lost. */
  readonly giveUpAfterMs?: number;
}

/**
 * A real clock whose pauses hold the process open: during a reconnect's pause nothing else may
 * (lib/clock's systemClock unrefs its timers, and `ferry` would exit in the middle of a --wait).
 */
export const cliClock: ReconnectClock = {
  now: () => Date.now(),
  sleep: (ms, signal) => timersSleep(ms, undefined, signal ? { signal } : {}),
};

/**
 * Whether an error is the daemon going away or coming back (kill -9, restart): the connection is
 * worth trying again, since the daemon resumes what ran.
 */
export function isDaemonRestarting(error: unknown): boolean {
  return isFerryError(error, 'FERRY_E_DAEMON_UNREACHABLE') || isFerryError(error, 'FERRY_E_DAEMON_STARTING');
}

/**
 * Bounded reconnects with exponential backoff for a stream the CLI follows (`--wait`, `--follow`,
 * `--watch`): 250 ms, 500 ms, 1 s, 2 s, 2 s... while the daemon restarts; given up after 60 s or 60
 * attempts without getting through, and at once for any other error.
 */
export class Reconnector {
  private readonly clock: ReconnectClock;
  private readonly firstDelayMs: number;
  private readonly maxDelayMs: number;
  private readonly maxAttempts: number;
  private readonly giveUpAfterMs: number;
  private attempts = 0;
  private lostAt: number | null = null;

  constructor(opts: ReconnectOptions = {}) {
    this.clock = opts.clock ?? cliClock;
    this.firstDelayMs = opts.firstDelayMs ?? 250;
    this.maxDelayMs = opts.maxDelayMs ?? 2_000;
    this.maxAttempts = opts.maxAttempts ?? 60;
    this.giveUpAfterMs = opts.giveUpAfterMs ?? 60_000;
  }

  /** The daemon answered: the next loss starts counting afresh. */
  connected(): void {
    this.attempts = 0;
    this.lostAt = null;
  }

  /**
   * After the stream failed with `error`: pauses before the next attempt, or throws `error` when it
   * is not a restart or the attempts or the time are spent (or the signal's reason when it aborts).
   */
  async retry(error: unknown, signal?: AbortSignal): Promise<void> {
    if (!isDaemonRestarting(error)) throw error;
    const now = this.clock.now();
    this.lostAt ??= now;
    if (this.attempts >= this.maxAttempts || now - this.lostAt >= this.giveUpAfterMs) throw error;
    const delay = Math.min(this.maxDelayMs, this.firstDelayMs * 2 ** Math.min(this.attempts, 30));
    this.attempts += 1;
    await this.clock.sleep(delay, signal);
  }
}
