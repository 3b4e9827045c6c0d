import { FerryError, messageOf } from '../../errors/ferry-error.js';
import { sleep, systemClock, type Clock } from '../../lib/clock.js';
import type { Logger } from '../../lib/logger.js';
import { hostDesiredStateSchema, type HostDesiredState } from '../../protocol/desired-state.js';
import { messageProblems } from '../../protocol/problems.js';
import type { HostReport } from '../../protocol/report.js';
import { backoffDelay, DEFAULT_BACKOFF, type BackoffPolicy } from './backoff.js';
import { withDeadline } from './deadline.js';
import { loadDesiredState, saveDesiredState } from './desired-file.js';
import { ConnectionTracker, type LinkConnectionStatus } from './link-status.js';
import { ReportSender } from './report-sender.js';
import type { AgentTransport } from './transport.js';

export const DEFAULT_HEARTBEAT_MS = 10_000;
/** Above the server's poll bound (25 s by default), so only a server that never answers hits it. */
export const DEFAULT_POLL_DEADLINE_MS = 60_000;
export const DEFAULT_REPORT_DEADLINE_MS = 15_000;

export interface AgentLinkOptions {
  readonly transport: AgentTransport;
  /** The host this agent is: a desired state for another is refused. */
  readonly hostId: string;
  /** The agent's data directory: its last desired state is `desired.json` there. */
  readonly dataDir: string;
  /**
   * Takes each new desired state (the one on disk at start, then each newer one), one at a time.
   * It should not throw: its failures are the reconciler's to report; a throw is logged.
   */
  readonly apply: (doc: HostDesiredState) => void | Promise<void>;
  /** A report the server took (what it carried is acknowledged). */
  readonly onReportSent?: (report: HostReport) => void;
  readonly clock?: Clock;
  readonly logger?: Logger;
  readonly heartbeatMs?: number;
  readonly pollDeadlineMs?: number;
  readonly reportDeadlineMs?: number;
  readonly backoff?: BackoffPolicy;
  /** [0, 1) as Math.random: the backoff's jitter. */
  readonly random?: () => number;
}

/**
 * The link's lifecycle: `created`, `starting` (the state on disk is read and applied), `running`
 * (polling and reporting), `stopping`, `stopped`.
 */
export type AgentLinkState = 'created' | 'starting' | 'running' | 'stopping' | 'stopped';

export interface AgentLinkStatus extends LinkConnectionStatus {
  readonly state: AgentLinkState;
  /** Where the link goes (a URL without credentials, or "in-process"). */
  readonly target: string;
  /** The revision of the desired state applied last; null before any. */
  readonly revision: number | null;
  readonly lastReportAt: number | null;
}

/**
 * An agent's link to its server: keeps the host's desired state flowing to `apply` and the agent's
 * reports flowing to the server, over any AgentTransport. Static stability: it starts from the
 * desired state it kept on disk, applied before the server is even asked, and without the server
 * it keeps it (and says so in its status) while it retries with backoff.
 */
export class AgentLink {
  private readonly clock: Clock;
  private readonly transport: AgentTransport;
  private readonly backoff: BackoffPolicy;
  private readonly random: () => number;
  private readonly tracker: ConnectionTracker;
  private readonly sender: ReportSender;
  private readonly stopping = new AbortController();
  private state: AgentLinkState = 'created';
  private current: HostDesiredState | null = null;
  private loops: Promise<void> | null = null;

  constructor(private readonly options: AgentLinkOptions) {
    this.clock = options.clock ?? systemClock;
    this.transport = options.transport;
    this.backoff = options.backoff ?? DEFAULT_BACKOFF;
    this.random = options.random ?? Math.random;
    this.tracker = new ConnectionTracker(this.clock.now());
    this.sender = new ReportSender({
      transport: this.transport,
      clock: this.clock,
      heartbeatMs: options.heartbeatMs ?? DEFAULT_HEARTBEAT_MS,
      deadlineMs: options.reportDeadlineMs ?? DEFAULT_REPORT_DEADLINE_MS,
      backoff: this.backoff,
      random: this.random,
      onSent: (report) => {
        this.tracker.succeeded(this.clock.now());
        options.onReportSent?.(report);
      },
      onFailed: (error) => this.failed('report', error),
    });
  }

  /**
   * Applies the desired state kept on disk (when there is one), then starts polling and reporting;
   * resolves once the kept state is applied, before the server is reached.
   */
  async start(): Promise<void> {
    this.expect('start', ['created']);
    this.state = 'starting';
    const loaded = await loadDesiredState(this.options.dataDir, this.options.hostId);
    if (loaded.problem !== null) {
      this.options.logger?.warn(
        { problem: loaded.problem },
        'the kept desired state cannot be used; waiting for the server',
      );
      this.tracker.noteError(new FerryError('FERRY_E_DATA_DIR', loaded.problem), this.clock.now());
    }
    if (loaded.doc !== null) {
      this.current = loaded.doc;
      await this.applyDoc(loaded.doc);
    }
    if (this.state !== 'starting') return;
    this.state = 'running';
    const signal = this.stopping.signal;
    this.loops = Promise.all([this.pollLoop(signal), this.sender.run(signal)]).then(() => undefined);
  }

  /** Stops polling and reporting (a report in flight is abandoned); resolves when both ended. */
  async stop(): Promise<void> {
    if (this.state === 'stopped' || this.state === 'stopping') {
      await this.loops;
      return;
    }
    this.state = 'stopping';
    this.stopping.abort(new FerryError('FERRY_E_ILLEGAL_STATE', 'the agent link stopped'));
    await this.loops;
    this.state = 'stopped';
  }

  /**
   * Gives the link the agent's newest report (the reconciler calls it on each change): sent as
   * soon as none is in flight, replacing any given meanwhile, and again at every heartbeat.
   */
  report(report: HostReport): void {
    this.expect('report', ['created', 'starting', 'running']);
    this.sender.offer(report);
  }

  /** The desired state applied last (null before any). */
  get desired(): HostDesiredState | null {
    return this.current;
  }

  get status(): AgentLinkStatus {
    return {
      state: this.state,
      target: this.transport.target,
      revision: this.current?.revision ?? null,
      lastReportAt: this.sender.lastSentAt,
      ...this.tracker.status,
    };
  }

  private async pollLoop(signal: AbortSignal): Promise<void> {
    let failures = 0;
    while (!signal.aborted) {
      let answer: { doc: unknown } | null;
      try {
        const after = this.current?.revision ?? 0;
        answer = await withDeadline(
          this.clock,
          this.options.pollDeadlineMs ?? DEFAULT_POLL_DEADLINE_MS,
          signal,
          () => this.pollTimedOut(),
          (s) => this.transport.pollDesired(after, s),
        );
        this.tracker.succeeded(this.clock.now());
      } catch (error) {
        if (signal.aborted) break;
        this.failed('poll', error);
        await this.pause(failures++, signal);
        continue;
      }
      try {
        if (answer !== null) await this.accept(answer.doc);
        failures = 0;
      } catch (error) {
        if (signal.aborted) break;
        // The server answered; what it sent (or keeping it) failed. Asked again after the backoff.
        this.tracker.noteError(error, this.clock.now());
        this.options.logger?.warn({ err: messageOf(error) }, 'a desired state from the server was not taken');
        await this.pause(failures++, signal);
      }
    }
  }

  /** Validates a document from the server, keeps it on disk, then applies it; an older one is ignored. */
  private async accept(raw: unknown): Promise<void> {
    const checked = hostDesiredStateSchema.safeParse(raw);
    if (!checked.success)
      throw new FerryError(
        'FERRY_E_PROTOCOL',
        `the server sent a desired state that is not valid: ${messageProblems(checked.error, 'desired').join('; ')}`,
        { where: this.transport.target },
      );
    const doc = checked.data;
    if (doc.host !== this.options.hostId)
      throw new FerryError(
        'FERRY_E_PROTOCOL',
        `the server sent the desired state of host ${JSON.stringify(doc.host)}, expected this host's (${JSON.stringify(this.options.hostId)})`,
        { where: this.transport.target, expected: this.options.hostId, got: doc.host },
      );
    if (this.current !== null && doc.revision <= this.current.revision) {
      this.options.logger?.warn(
        { revision: doc.revision, kept: this.current.revision },
        'ignored a desired state older than the one kept',
      );
      return;
    }
    await saveDesiredState(this.options.dataDir, doc);
    this.current = doc;
    await this.applyDoc(doc);
  }

  private async applyDoc(doc: HostDesiredState): Promise<void> {
    try {
      await this.options.apply(doc);
    } catch (error) {
      this.options.logger?.error(
        { revision: doc.revision, err: messageOf(error) },
        'applying the desired state failed',
      );
    }
  }

  private failed(exchange: 'poll' | 'report', error: unknown): void {
    const wasConnected = this.tracker.status.connection !== 'disconnected';
    this.tracker.failed(error, this.clock.now());
    if (wasConnected)
      this.options.logger?.warn(
        { exchange, target: this.transport.target, err: messageOf(error) },
        'lost the Ferry server; keeping the last desired state',
      );
  }

  private pause(attempt: number, signal: AbortSignal): Promise<void> {
    return sleep(this.clock, backoffDelay(attempt, this.backoff, this.random), signal).catch(() => undefined);
  }

  private pollTimedOut(): FerryError {
    const seconds = (this.options.pollDeadlineMs ?? DEFAULT_POLL_DEADLINE_MS) / 1000;
    return new FerryError(
      'FERRY_E_SERVER_UNREACHABLE',
      `the Ferry server at ${this.transport.target} did not answer a poll within ${seconds}s`,
      { where: this.transport.target },
    );
  }

  private expect(action: string, states: readonly AgentLinkState[]): void {
    if (!states.includes(this.state))
      throw new FerryError('FERRY_E_ILLEGAL_STATE', `agent link: cannot ${action} while ${this.state}`, {
        expected: states.join(' or '),
        got: this.state,
      });
  }
}
