import { FerryError } from '../../errors/ferry-error.js';
import { sleep, type Clock, type TimerHandle } from '../../lib/clock.js';
import type { HostReport } from '../../protocol/report.js';
import { backoffDelay, type BackoffPolicy } from './backoff.js';
import { withDeadline } from './deadline.js';
import type { AgentTransport } from './transport.js';

export interface ReportSenderOptions {
  readonly transport: AgentTransport;
  readonly clock: Clock;
  /** The latest report is sent again when none was sent for this long: the host's heartbeat. */
  readonly heartbeatMs: number;
  /** A report not taken within this long has failed (a link cut without a reset). */
  readonly deadlineMs: number;
  readonly backoff: BackoffPolicy;
  readonly random: () => number;
  readonly onSent: (report: HostReport) => void;
  readonly onFailed: (error: unknown) => void;
}

/**
 * Sends the agent's reports: the newest only (a burst of changes is one report: at most one is in
 * flight, and of those given meanwhile the latest wins), the latest again at every heartbeat, and
 * after a failure the newest once the backoff has passed.
 */
export class ReportSender {
  private latest: HostReport | null = null;
  /** Whether `latest` still has to be sent (given since the last successful send, or failed). */
  private pending = false;
  private wake: (() => void) | null = null;
  private sentAt: number | null = null;

  constructor(private readonly options: ReportSenderOptions) {}

  /** Takes the newest report; it replaces any not sent yet. */
  offer(report: HostReport): void {
    this.latest = report;
    this.pending = true;
    this.wake?.();
  }

  /** When the last report was taken by the server (the agent's clock), null before the first. */
  get lastSentAt(): number | null {
    return this.sentAt;
  }

  /** Sends until `signal` aborts; resolves then. */
  async run(signal: AbortSignal): Promise<void> {
    const { clock, heartbeatMs } = this.options;
    let failures = 0;
    let heartbeatAt = clock.now() + heartbeatMs;
    while (!signal.aborted) {
      if (!this.pending) await this.waitUntil(heartbeatAt, signal);
      if (signal.aborted) break;
      const report = this.latest;
      if (report === null) {
        // Nothing to beat with until the first report.
        heartbeatAt = clock.now() + heartbeatMs;
        continue;
      }
      if (!this.pending && clock.now() < heartbeatAt) continue;
      this.pending = false;
      try {
        await withDeadline(
          clock,
          this.options.deadlineMs,
          signal,
          () => this.timedOut(),
          (s) => this.options.transport.sendReport(report, s),
        );
        failures = 0;
        this.sentAt = clock.now();
        heartbeatAt = this.sentAt + heartbeatMs;
        this.options.onSent(report);
      } catch (error) {
        if (signal.aborted) break;
        // The newest report is sent after the backoff: this one, or one given meanwhile.
        this.pending = true;
        this.options.onFailed(error);
        await sleep(clock, backoffDelay(failures++, this.options.backoff, this.options.random), signal).catch(
          () => undefined,
        );
      }
    }
  }

  /** Waits until `at`, a report is offered, or `signal` aborts. */
  private waitUntil(at: number, signal: AbortSignal): Promise<void> {
    const { clock } = this.options;
    return new Promise((resolve) => {
      let timer: TimerHandle | null = null;
      const done = (): void => {
        if (timer !== null) clock.clearTimeout(timer);
        signal.removeEventListener('abort', done);
        this.wake = null;
        resolve();
      };
      if (signal.aborted) return done();
      this.wake = done;
      signal.addEventListener('abort', done, { once: true });
      timer = clock.setTimeout(done, Math.max(0, at - clock.now()));
    });
  }

  private timedOut(): FerryError {
    const seconds = this.options.deadlineMs / 1000;
    return new FerryError(
      'FERRY_E_SERVER_UNREACHABLE',
      `the Ferry server at ${this.options.transport.target} did not take a report within ${seconds}s`,
      { where: this.options.transport.target },
    );
  }
}
