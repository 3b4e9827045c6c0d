import { FerryError, messageOf } from '../../errors/ferry-error.js';
import type { Clock } from '../../lib/clock.js';
import type { Logger } from '../../lib/logger.js';
import { MAX_REPORT_BYTES } from '../../protocol/transport.js';
import { messageProblems } from '../../protocol/problems.js';
import { hostReportSchema, type HostReport } from '../../protocol/report.js';

/** A report as the server received it. */
export interface ReceivedReport {
  readonly report: HostReport;
  /** When the server received it (ms since the epoch, the server's clock). */
  readonly receivedAt: number;
  /** The address the agent's request came from ("in-process" through the in-process transport). */
  readonly remoteAddress: string;
}

/** One host as `ferry hosts` shows it: when it was last heard from, and what it last said. */
export interface HostSeen {
  readonly host: string;
  /** The last request of its agent (a report or a poll), server clock. */
  readonly lastSeenAt: number;
  readonly remoteAddress: string;
  readonly lastReport: ReceivedReport | null;
}

/** Where a request of an agent came from. */
export interface AgentRequestSource {
  readonly address: string;
}

export type ReportListener = (received: ReceivedReport) => void;

interface HostEntry {
  /** Null while only listeners wait for the host: it is not listed until it is heard from. */
  lastSeenAt: number | null;
  remoteAddress: string;
  lastReport: ReceivedReport | null;
  readonly listeners: Set<ReportListener>;
}

/**
 * The hosts' latest reports, in memory: each report replaces the host's previous one (reports are
 * whole, not deltas), and listeners hear each as it arrives. Nothing here is written to the store:
 * a thousand agents report every second, and a report is worth something only while it is fresh.
 */
export class HostReports {
  private readonly entries = new Map<string, HostEntry>();
  private readonly listeners = new Set<ReportListener>();

  constructor(
    private readonly clock: Clock,
    private readonly logger?: Logger,
  ) {}

  /**
   * Takes a report from the agent of `host` (the authenticated one): validated with the protocol's
   * schema and bound, and refused when it is for another host. `bytes`: its size as received.
   */
  receive(
    host: string,
    body: unknown,
    from: AgentRequestSource & { readonly bytes: number },
  ): ReceivedReport {
    if (from.bytes > MAX_REPORT_BYTES)
      throw new FerryError(
        'FERRY_E_BODY_TOO_LARGE',
        `report: expected at most ${MAX_REPORT_BYTES} bytes, got ${from.bytes}`,
        { expected: `at most ${MAX_REPORT_BYTES} bytes`, got: `${from.bytes} bytes` },
      );
    const checked = hostReportSchema.safeParse(body);
    if (!checked.success) {
      const problems = messageProblems(checked.error, 'report');
      throw new FerryError('FERRY_E_USAGE', `invalid report: ${problems.join('; ')}`, { problems });
    }
    const report = checked.data;
    if (report.host !== host)
      throw new FerryError(
        'FERRY_E_FORBIDDEN',
        `report: expected a report for host ${JSON.stringify(host)} (the credential's), got one for ${JSON.stringify(report.host)}`,
        { expected: host, got: report.host },
      );
    const received: ReceivedReport = { report, receivedAt: this.clock.now(), remoteAddress: from.address };
    const entry = this.touch(host, from);
    entry.lastReport = received;
    this.tell(entry.listeners, received);
    this.tell(this.listeners, received);
    return received;
  }

  /** Notes that the agent of `host` was heard from (a poll for its desired state). */
  seen(host: string, from: AgentRequestSource): void {
    this.touch(host, from);
  }

  latest(host: string): ReceivedReport | null {
    return this.entries.get(host)?.lastReport ?? null;
  }

  /** Every host heard from since the server started, by host id. */
  hosts(): HostSeen[] {
    const seen: HostSeen[] = [];
    for (const [host, entry] of this.entries)
      if (entry.lastSeenAt !== null)
        seen.push({
          host,
          lastSeenAt: entry.lastSeenAt,
          remoteAddress: entry.remoteAddress,
          lastReport: entry.lastReport,
        });
    return seen.sort((a, b) => (a.host < b.host ? -1 : a.host > b.host ? 1 : 0));
  }

  /** Calls `listener` with every report received (of `host` only, when given); returns the unsubscribe. */
  subscribe(listener: ReportListener, host?: string): () => void {
    const set = host === undefined ? this.listeners : this.hostEntry(host).listeners;
    set.add(listener);
    return () => set.delete(listener);
  }

  /**
   * Resolves with the first report of `host` that `accepts` (the latest one already received
   * included): how the control plane waits for an acknowledgement. Rejects when `signal` aborts.
   */
  waitFor(
    host: string,
    accepts: (received: ReceivedReport) => boolean,
    signal: AbortSignal,
  ): Promise<ReceivedReport> {
    const latest = this.latest(host);
    if (latest !== null && accepts(latest)) return Promise.resolve(latest);
    if (signal.aborted) return Promise.reject(asError(signal.reason));
    return new Promise((resolve, reject) => {
      const onAbort = (): void => {
        unsubscribe();
        reject(asError(signal.reason));
      };
      const unsubscribe = this.subscribe((received) => {
        if (!accepts(received)) return;
        unsubscribe();
        signal.removeEventListener('abort', onAbort);
        resolve(received);
      }, host);
      signal.addEventListener('abort', onAbort, { once: true });
    });
  }

  private touch(host: string, from: AgentRequestSource): HostEntry {
    const entry = this.hostEntry(host);
    entry.lastSeenAt = this.clock.now();
    entry.remoteAddress = from.address;
    return entry;
  }

  private hostEntry(host: string): HostEntry {
    let entry = this.entries.get(host);
    if (entry === undefined) {
      entry = { lastSeenAt: null, remoteAddress: '', lastReport: null, listeners: new Set() };
      this.entries.set(host, entry);
    }
    return entry;
  }

  /** A listener that throws never stops the report, nor the other listeners. */
  private tell(listeners: ReadonlySet<ReportListener>, received: ReceivedReport): void {
    for (const listener of [...listeners]) {
      try {
        listener(received);
      } catch (error) {
        this.logger?.error({ host: received.report.host, err: messageOf(error) }, 'a report listener failed');
      }
    }
  }
}

function asError(reason: unknown): Error {
  return reason instanceof Error ? reason : new Error(String(reason));
}
