import type { HostReport } from '../../protocol/report.js';

/**
 * How an agent's link reaches its server: over HTTP(S) (http-transport.ts) or, inside `ferry up`,
 * in the same process (in-process-transport.ts). Same messages, same bounds; the link does not know
 * which one it runs on. Failures are FerryErrors (or UnknownCodeErrors: a newer server's codes).
 */
export interface AgentTransport {
  /**
   * Waits for the host's desired state newer than revision `after`: resolves with it as received
   * (the link validates it), or with null when the server's poll bound passed with nothing newer.
   */
  pollDesired(after: number, signal: AbortSignal): Promise<{ readonly doc: unknown } | null>;
  /** Sends a report; resolves once the server took it. */
  sendReport(report: HostReport, signal: AbortSignal): Promise<void>;
  /** Where it goes, for status and logs: never the credential. */
  readonly target: string;
}
