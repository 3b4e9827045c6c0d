import { FerryError } from '../../errors/ferry-error.js';
import { systemClock, type Clock } from '../../lib/clock.js';
import type { Logger } from '../../lib/logger.js';
import type { HostDesiredState } from '../../protocol/desired-state.js';
import type { DesiredStateDraft, DesiredStates } from './desired-states.js';
import { DesiredWaits } from './desired-waits.js';
import {
  HostReports,
  type AgentRequestSource,
  type HostSeen,
  type ReceivedReport,
  type ReportListener,
} from './host-reports.js';

/** How long a poll for a newer desired state waits before it answers "nothing new". */
export const DEFAULT_POLL_TIMEOUT_MS = 25_000;

export interface HostExchangeOptions {
  readonly desired: DesiredStates;
  readonly clock?: Clock;
  /** The long poll's bound (default 25 s): below the idle timeouts of proxies on the way. */
  readonly pollTimeoutMs?: number;
  readonly logger?: Logger;
}

/**
 * Where the control plane and the hosts' agents meet: the control plane publishes each host's
 * desired state and hears its reports; agents wait for a newer desired state and send reports,
 * through HTTP (routes.ts) or in the same process (`ferry up`), with the same messages. Desired
 * states live in the store (DesiredStates); reports stay in memory.
 */
export class HostExchange {
  private readonly desired: DesiredStates;
  private readonly waits: DesiredWaits;
  private readonly reports: HostReports;
  private readonly clock: Clock;
  readonly pollTimeoutMs: number;
  private closed = false;

  constructor(options: HostExchangeOptions) {
    this.desired = options.desired;
    this.clock = options.clock ?? systemClock;
    this.pollTimeoutMs = options.pollTimeoutMs ?? DEFAULT_POLL_TIMEOUT_MS;
    this.waits = new DesiredWaits(options.desired);
    this.reports = new HostReports(this.clock, options.logger);
  }

  // The control plane's side.

  /**
   * Writes the host's desired state (a compare-and-swap with `ifRevision`); agents waiting on it
   * get it at once. Resolves with the document and its revision, or null when the compare failed.
   */
  publish(
    host: string,
    draft: DesiredStateDraft,
    options?: { ifRevision?: number },
  ): Promise<HostDesiredState | null> {
    return this.desired.put(host, draft, options);
  }

  /** The host's desired state as stored now (null: none). */
  async desiredState(host: string): Promise<HostDesiredState | null> {
    return (await this.desired.get(host)).doc;
  }

  latestReport(host: string): ReceivedReport | null {
    return this.reports.latest(host);
  }

  /** Every host heard from since the server started, with its last report: for `ferry hosts`. */
  hosts(): HostSeen[] {
    return this.reports.hosts();
  }

  /** Calls `listener` with each report as it arrives (of `host` only, when given); returns the unsubscribe. */
  onReport(listener: ReportListener, host?: string): () => void {
    return this.reports.subscribe(listener, host);
  }

  /** The first report of `host` that `accepts` (the latest one included): an acknowledgement. */
  waitForReport(
    host: string,
    accepts: (received: ReceivedReport) => boolean,
    signal: AbortSignal,
  ): Promise<ReceivedReport> {
    return this.reports.waitFor(host, accepts, signal);
  }

  // The agents' side (host: the authenticated host, never one a message names).

  /**
   * The host's desired state once its revision is newer than `after`; null when none came within
   * the poll bound (the agent asks again). Rejects when `signal` aborts (the agent went away).
   */
  async nextDesired(
    host: string,
    after: number,
    from: AgentRequestSource,
    signal?: AbortSignal,
  ): Promise<HostDesiredState | null> {
    this.checkOpen();
    this.reports.seen(host, from);
    const bound = new AbortController();
    const timer = this.clock.setTimeout(() => bound.abort(BOUND_REACHED), this.pollTimeoutMs);
    const both = signal === undefined ? bound.signal : AbortSignal.any([bound.signal, signal]);
    try {
      return await this.waits.next(host, after, both);
    } catch (error) {
      if (bound.signal.aborted && !(signal?.aborted ?? false)) return null;
      throw error;
    } finally {
      this.clock.clearTimeout(timer);
    }
  }

  /** Takes a report from the agent of `host`; see HostReports.receive. */
  receiveReport(
    host: string,
    body: unknown,
    from: AgentRequestSource & { readonly bytes: number },
  ): ReceivedReport {
    this.checkOpen();
    return this.reports.receive(host, body, from);
  }

  /** Ends every wait (the server stops): waiting agents are told, and ask again elsewhere or later. */
  close(): void {
    this.closed = true;
    this.waits.close(stopping());
  }

  private checkOpen(): void {
    if (this.closed) throw stopping();
  }
}

const BOUND_REACHED = new Error('the poll bound was reached');

function stopping(): FerryError {
  return new FerryError('FERRY_E_SERVER_UNREACHABLE', 'the Ferry server is stopping; ask again shortly');
}
