import { FerryError } from '../../errors/ferry-error.js';
import type { AppOnHost, HostDesiredState } from '../../protocol/desired-state.js';
import type { AppReport } from '../../protocol/report.js';
import type { HostExchange } from '../../server/agent-api/host-exchange.js';
import { emptyApp } from './edits.js';
import type { HostLink } from './host-link.js';

/** Compare-and-swap attempts before an edit gives up (another writer keeps winning). */
const EDIT_ATTEMPTS = 20;

export interface ExchangeHostLinkDeps {
  readonly exchange: HostExchange;
  /** The control plane's clock (a fresh report is one the host began after this). */
  readonly now: () => number;
  /** The app's run specification for a host that gets it for the first time. */
  readonly specFor: (host: string, app: string, env: string) => AppOnHost['spec'];
}

/**
 * The HostLink of the control plane over the HostExchange: edits are compare-and-swaps of the
 * host's desired state in the store (retried on a concurrent write), serialized per host within
 * this process; acknowledgements are the host's reports. The same whether the host's agent runs
 * in this process (`ferry up`) or dials in over HTTP.
 */
export class ExchangeHostLink implements HostLink {
  private readonly docs = new Map<string, HostDesiredState>();
  private readonly editing = new Map<string, Promise<unknown>>();

  constructor(private readonly deps: ExchangeHostLinkDeps) {}

  app(host: string, app: string, env: string): AppOnHost | undefined {
    return this.docs.get(host)?.apps.find((a) => a.app === app && a.env === env);
  }

  edit(host: string, app: string, env: string, change: (doc: AppOnHost) => AppOnHost): Promise<number> {
    return this.serialized(host, () => this.editNow(host, app, env, change));
  }

  /** The app leaves the host's desired state altogether (it left the configuration). */
  remove(host: string, app: string, env: string): Promise<number> {
    return this.serialized(host, () => this.editNow(host, app, env, null));
  }

  private serialized(host: string, work: () => Promise<number>): Promise<number> {
    const previous = this.editing.get(host) ?? Promise.resolve();
    const next = previous.catch(() => undefined).then(work);
    this.editing.set(host, next);
    return next;
  }

  lastReport(host: string, app: string, env: string): AppReport | undefined {
    const received = this.deps.exchange.latestReport(host);
    return received?.report.apps.find((a) => a.app === app && a.env === env);
  }

  report(host: string, app: string, env: string): Promise<AppReport | undefined> {
    return Promise.resolve(this.lastReport(host, app, env));
  }

  async freshReport(
    host: string,
    app: string,
    env: string,
    timeoutMs: number,
  ): Promise<AppReport | undefined> {
    const asked = this.deps.now();
    const mine = (apps: readonly AppReport[]) => apps.find((a) => a.app === app && a.env === env);
    try {
      const received = await this.deps.exchange.waitForReport(
        host,
        ({ report }) => report.at >= asked && mine(report.apps) !== undefined,
        AbortSignal.timeout(timeoutMs),
      );
      return mine(received.report.apps);
    } catch {
      // A host that reports slowly (or whose clock is behind): its newest report stands in.
      return this.lastReport(host, app, env);
    }
  }

  async until(
    host: string,
    app: string,
    env: string,
    wait: { revision: number; what: string; timeoutMs: number; accept: (report: AppReport) => boolean },
  ): Promise<AppReport> {
    const signal = AbortSignal.timeout(wait.timeoutMs);
    const mine = (apps: readonly AppReport[]) => apps.find((a) => a.app === app && a.env === env);
    try {
      const received = await this.deps.exchange.waitForReport(
        host,
        ({ report }) => {
          const found = report.revision >= wait.revision ? mine(report.apps) : undefined;
          return found !== undefined && wait.accept(found);
        },
        signal,
      );
      return mine(received.report.apps)!;
    } catch (error) {
      if (!signal.aborted) throw error;
      throw new FerryError(
        'FERRY_E_HOST_TIMEOUT',
        `host ${host}: expected ${wait.what} for ${app}.${env} within ${wait.timeoutMs}ms of desired revision ${wait.revision}, got no report saying so`,
        { where: host },
      );
    }
  }

  private async editNow(
    host: string,
    app: string,
    env: string,
    change: ((doc: AppOnHost) => AppOnHost) | null,
  ): Promise<number> {
    for (let attempt = 0; attempt < EDIT_ATTEMPTS; attempt++) {
      const current = await this.deps.exchange.desiredState(host);
      const apps = current?.apps ?? [];
      const before =
        apps.find((a) => a.app === app && a.env === env) ??
        emptyApp(app, env, this.deps.specFor(host, app, env));
      const others = apps.filter((a) => !(a.app === app && a.env === env));
      const published = await this.deps.exchange.publish(
        host,
        // The spec as the configuration has it now: `ferry apply` may have changed how the app runs.
        {
          apps:
            change === null
              ? others
              : [...others, { ...change(before), spec: this.deps.specFor(host, app, env) }],
        },
        { ifRevision: current?.revision ?? 0 },
      );
      if (published !== null) {
        this.docs.set(host, published);
        return published.revision;
      }
    }
    throw new FerryError(
      'FERRY_E_STORE',
      `host ${host}: the desired state of ${app}.${env} kept changing under ${EDIT_ATTEMPTS} attempts to edit it`,
      { where: host },
    );
  }
}
