import type { AppOnHost } from '../../protocol/desired-state.js';
import type { AppReport } from '../../protocol/report.js';

/**
 * The control plane's side of one host, as the runtime's effects use it: the app's part of the
 * host's desired state, edited and persisted before the host sees it, and the host's reports, which
 * acknowledge the edits. `ferry up` has one in-process host; `ferry server` a link per agent.
 */
export interface HostLink {
  /** The app's part of the host's desired state now (undefined when the host has none of it). */
  app(host: string, app: string, env: string): AppOnHost | undefined;
  /**
   * Applies `change` to the app's part (an empty one when missing), persists the document and hands
   * it to the host; resolves with the document's new revision.
   */
  edit(host: string, app: string, env: string, change: (doc: AppOnHost) => AppOnHost): Promise<number>;
  /** The newest report of the app received from the host, as it is now (undefined before any). */
  lastReport(host: string, app: string, env: string): AppReport | undefined;
  /** The host's newest report of the app (undefined before any). */
  report(host: string, app: string, env: string): Promise<AppReport | undefined>;
  /**
   * A report of the app the host began after this call (what runs now, the router's counters
   * included); the newest one when none comes within timeoutMs.
   */
  freshReport(host: string, app: string, env: string, timeoutMs: number): Promise<AppReport | undefined>;
  /**
   * Resolves with the first report of the app that reflects `revision` or later and that `accept`s;
   * rejects with FERRY_E_HOST_TIMEOUT (naming `what`) after timeoutMs.
   */
  until(
    host: string,
    app: string,
    env: string,
    wait: { revision: number; what: string; timeoutMs: number; accept: (report: AppReport) => boolean },
  ): Promise<AppReport>;
}
