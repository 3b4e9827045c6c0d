import type { Clock, TimerHandle } from '../lib/clock.js';
import type { Logger } from '../lib/logger.js';
import { messageOf } from '../errors/ferry-error.js';
import { FERRY_VERSION } from '../lib/version.js';
import type { HostReport, RouterReport } from '../protocol/report.js';
import type { HostEventJournal } from './host-events.js';
import { AgentLink, type AgentLinkStatus } from './link/agent-link.js';
import type { AgentTransport } from './link/transport.js';
import { Reconciler, type ReconcilerDeps } from './reconcile/reconciler.js';

export interface HostAgentOptions extends Omit<ReconcilerDeps, 'onChange'> {
  readonly hostId: string;
  readonly labels: Readonly<Record<string, string>>;
  /** Where the agent keeps its last desired state. */
  readonly dataDir: string;
  readonly transport: AgentTransport;
  readonly clock: Clock;
  readonly logger: Logger;
  /**
   * A fresh report this often (ms) while the host is busy (a desired state arrived or something
   * changed in the last `busyForMs`): the control plane's view of health and traffic during a
   * deployment. Idle, one every `idleReportEveryMs` (a heartbeat that costs little).
   */
  readonly reportEveryMs: number;
  readonly idleReportEveryMs?: number;
  /** The host's router as it is watched (null before the watch began): every report carries it. */
  readonly router?: () => RouterReport | null;
  readonly busyForMs?: number;
  /** The host's events between reports (instance and health changes, crash notes): every report carries those not acknowledged. */
  readonly journal?: HostEventJournal;
}

const DEFAULT_IDLE_REPORT_MS = 1_000;
const DEFAULT_BUSY_FOR_MS = 30_000;

/**
 * The agent of one host: its desired state comes through the AgentLink (from disk first, then from
 * the server), the Reconciler brings the host to it, and a report of what runs goes back on every
 * change and at least every `reportEveryMs`. `ferry agent` runs one over HTTP; `ferry up` one in
 * its own process, over the in-process transport.
 */
export class HostAgent {
  readonly reconciler: Reconciler;
  readonly link: AgentLink;
  private timer: TimerHandle | null = null;
  private reporting: Promise<void> | null = null;
  private again = false;
  private stopped = false;
  private busySince = Number.NEGATIVE_INFINITY;
  private lastReportAt = Number.NEGATIVE_INFINITY;

  constructor(private readonly options: HostAgentOptions) {
    this.reconciler = new Reconciler({
      ...options,
      onChange: () => {
        this.busy();
        this.reportSoon();
      },
    });
    this.link = new AgentLink({
      transport: options.transport,
      hostId: options.hostId,
      dataDir: options.dataDir,
      apply: (doc) => {
        this.busy();
        this.reconciler.apply(doc);
      },
      onReportSent: (report) => options.journal?.acknowledge(report.events),
      clock: options.clock,
      logger: options.logger,
    });
  }

  /** Something happened on the host (an event was journaled): a report carries it soon. */
  changed(): void {
    this.busy();
    this.reportSoon();
  }

  /** Applies the desired state kept on disk, then follows the server's; reports from now on. */
  async start(): Promise<void> {
    await this.link.start();
    this.reportSoon();
    this.timer = this.options.clock.setInterval(() => this.tick(), this.options.reportEveryMs);
  }

  /** Stops following and reporting (what runs keeps running: it outlives the agent). */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer !== null) this.options.clock.clearInterval(this.timer);
    await this.link.stop();
    await this.reconciler.stop();
    await this.reporting;
  }

  get status(): AgentLinkStatus {
    return this.link.status;
  }

  private busy(): void {
    this.busySince = this.options.clock.now();
  }

  /** Every reportEveryMs: a report while busy; idle, only once idleReportEveryMs went by. */
  private tick(): void {
    const now = this.options.clock.now();
    const busy = now - this.busySince < (this.options.busyForMs ?? DEFAULT_BUSY_FOR_MS);
    const due = now - this.lastReportAt >= (this.options.idleReportEveryMs ?? DEFAULT_IDLE_REPORT_MS);
    if (busy || due) this.reportSoon();
  }

  /** Something changed: build a report (one at a time; a change meanwhile builds another after). */
  private reportSoon(): void {
    if (this.stopped) return;
    if (this.reporting !== null) {
      this.again = true;
      return;
    }
    this.reporting = this.sendReport()
      .catch((error: unknown) =>
        this.options.logger.warn({ err: messageOf(error) }, 'could not build a report'),
      )
      .finally(() => {
        this.reporting = null;
        if (this.again) {
          this.again = false;
          this.reportSoon();
        }
      });
  }

  private async sendReport(): Promise<void> {
    const revision = this.reconciler.revision;
    this.lastReportAt = this.options.clock.now();
    const router = this.options.router?.() ?? null;
    const report: HostReport = {
      host: this.options.hostId,
      agentVersion: FERRY_VERSION,
      revision,
      at: this.options.clock.now(),
      labels: { ...this.options.labels },
      apps: await this.reconciler.report(),
      ...(router !== null ? { router } : {}),
      ...(this.options.journal !== undefined ? { events: this.options.journal.pending() } : {}),
    };
    if (!this.stopped) this.link.report(report);
  }
}
