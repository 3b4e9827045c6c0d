import { appHookLines } from '../../config/hook-lines.js';
import type { AppConfig, ConfigSource } from '../../config/types.js';
import type { OutcomeReading } from '../../engine/served-report.js';
import type { DeploymentHook, DeploymentState, EngineEvent, ReleaseVerdict } from '../../engine/types.js';
import { knownErrorCode } from '../../errors/catalog.js';
import { FerryError } from '../../errors/ferry-error.js';
import type { AppReport } from '../../protocol/report.js';
import type { ArtifactResolver } from '../../releases/artifact-of.js';
import type { Store } from '../../store/store.js';
import type { EffectPort } from '../effects.js';
import { deploymentVariables } from '../hook-variables.js';
import {
  withCurrent,
  withInstances,
  withoutRelease,
  withoutRetired,
  withRelease,
  withRetired,
  withWeights,
} from './edits.js';
import type { HostLink } from './host-link.js';
import { runHostTask } from './host-task.js';
import { observeRelease, outcomesOf, servingInstances } from './observation.js';
import type { TrafficWindows } from './traffic-windows.js';

/** Beyond an effect's own limit (a drain's grace, a hook's timeout), what a host may take to say it is done. */
const ACK_MARGIN_MS = 30_000;
/** How long a reading waits for a report begun after it (hosts report every second at least). */
const FRESH_REPORT_MS = 3_000;

export interface DesiredEffectsDeps {
  readonly link: HostLink;
  /** The host an app in an environment runs on. */
  readonly hostOf: (app: string, env: string) => string;
  /** The release ledger: installed releases enter it, verdicts mark them. */
  readonly store: Pick<Store, 'getRelease' | 'upsertRelease' | 'markRelease'>;
  readonly config: ConfigSource;
  readonly windows: TrafficWindows;
  readonly now: () => number;
  /** Told of every release a host installed for a deployment (metrics). */
  readonly onInstalled?: (state: DeploymentState, version: string) => void;
  /** A release's own artifact (the release catalog's); null or absent: the app's artifact.url. */
  readonly artifactOf?: ArtifactResolver;
}

/**
 * The deployment runtime's effects as edits of the host's desired state: each effect changes the
 * app's part of the document and resolves once the host's report acknowledges it (the release
 * installed, the instances there, the traffic split, the old ones gone, the hook's outcome). The
 * engine's rules are unchanged; the host does the work and keeps running the last document when the
 * control plane is away.
 */
export class DesiredEffects implements EffectPort {
  constructor(private readonly deps: DesiredEffectsDeps) {}

  async install(state: DeploymentState, version: string): Promise<void> {
    const app = this.appConfig(state);
    const artifact = (await this.deps.artifactOf?.(state.app, version)) ?? null;
    const revision = await this.edit(state, (doc) => withRelease(doc, version, artifact));
    const timeoutMs = (app?.artifact.timeoutMs ?? 0) * ((app?.artifact.retries ?? 0) + 1) + ACK_MARGIN_MS;
    const report = await this.until(state, revision, `release ${version} installed`, timeoutMs, (r) =>
      r.releases.some((release) => release.version === version && release.install !== 'installing'),
    );
    const outcome = report.releases.find((release) => release.version === version)!;
    if (outcome.install === 'failed') {
      // Out of the document: a later deployment of the same release installs it again.
      await this.edit(state, (doc) => withoutRelease(doc, version));
      const failure = outcome.failure ?? { code: 'FERRY_E_INTERNAL', message: 'the install failed' };
      throw new FerryError(knownErrorCode(failure.code), failure.message);
    }
    this.deps.onInstalled?.(state, version);
    // Into the ledger only now, installed and verified: a failed install leaves no release behind.
    const release = await this.deps.store.getRelease(state.app, state.env, version);
    await this.deps.store.upsertRelease({
      app: state.app,
      env: state.env,
      version,
      artifactUrl: outcome.source?.url ?? release?.artifactUrl ?? '',
      checksum: outcome.source?.checksum ?? release?.checksum ?? null,
      createdAt: release?.createdAt ?? this.deps.now(),
    });
    // Every deployment of the release runs it (a migration, a cache warm-up), not only the first install.
    await this.runTask(state, 'before_start', version);
  }

  async ensureInstances(
    state: DeploymentState,
    version: string,
    count: number,
    exclude: readonly string[] = [],
  ): Promise<void> {
    const before = await this.report(state);
    // The excluded ones (a restart's old instances) keep serving beside the `count` new ones.
    const kept = before ? servingInstances(before, version).filter((i) => exclude.includes(i.id)).length : 0;
    const quickHealth = state.kind === 'rollback';
    const revision = await this.edit(state, (doc) =>
      withInstances(doc, version, count + kept, { quickHealth }),
    );
    await this.until(
      state,
      revision,
      `${count} instance(s) of ${version}`,
      ACK_MARGIN_MS,
      (r) => servingInstances(r, version, exclude).length >= count,
    );
  }

  async retireInstances(state: DeploymentState, version: string, ids: readonly string[]): Promise<void> {
    const current = this.deps.link.app(this.hostOf(state), state.app, state.env);
    const release = current?.releases.find((r) => r.version === version);
    // The ids are cumulative (a restart names every old one retired so far): only those still
    // serving and not yet named leave the count.
    const before = await this.report(state);
    const named = new Set(release?.retire ?? []);
    const counted = (before ? servingInstances(before, version) : []).filter(
      (i) => ids.includes(i.id) && !named.has(i.id),
    ).length;
    const revision = await this.edit(state, (doc) =>
      withRetired(
        withInstances(doc, version, Math.max(0, (release?.instances ?? 0) - counted)),
        version,
        ids,
      ),
    );
    await this.until(state, revision, `instance(s) ${ids.join(', ')} stopped`, this.drainMs(state), (r) =>
      ids.every((id) => !r.instances.some((i) => i.id === id)),
    );
    await this.edit(state, (doc) => withoutRetired(doc, version, new Set(ids)));
  }

  async trimInstances(
    state: DeploymentState,
    version: string,
    exclude: readonly string[],
    count: number,
  ): Promise<void> {
    const before = await this.report(state);
    const kept = before ? servingInstances(before, version).filter((i) => exclude.includes(i.id)).length : 0;
    const revision = await this.edit(state, (doc) => withInstances(doc, version, count + kept));
    await this.until(
      state,
      revision,
      `at most ${count} new instance(s) of ${version}`,
      this.drainMs(state),
      (r) => servingInstances(r, version, exclude).length <= count,
    );
  }

  instanceIds(app: string, env: string, version: string): string[] {
    const report = this.deps.link.lastReport(this.deps.hostOf(app, env), app, env);
    return report ? servingInstances(report, version).map((i) => i.id) : [];
  }

  async setTraffic(state: DeploymentState, weights: Readonly<Record<string, number>>): Promise<void> {
    const split = new Map(Object.entries(weights));
    const revision = await this.edit(state, (doc) => withWeights(doc, split));
    // A release named in the split but not on the host (already retired) has no instances to weigh.
    const doc = this.deps.link.app(this.hostOf(state), state.app, state.env);
    const expected = new Map((doc?.releases ?? []).map((r) => [r.version, r.weight]));
    await this.until(state, revision, 'the traffic split', ACK_MARGIN_MS, (r) => {
      const actual = new Map(r.traffic.map((t) => [t.version, t.weight]));
      return (
        [...expected].every(([version, weight]) => (actual.get(version) ?? 0) === weight) &&
        r.traffic.every((t) => expected.has(t.version) || t.weight === 0)
      );
    });
  }

  retire(state: DeploymentState, version: string): Promise<void> {
    return this.leave(state, version, false);
  }

  stopInstances(state: DeploymentState, version: string): Promise<void> {
    return this.leave(state, version, true);
  }

  async activate(state: DeploymentState, version: string): Promise<void> {
    const revision = await this.edit(state, (doc) => withCurrent(doc, version));
    await this.until(state, revision, `current -> ${version}`, ACK_MARGIN_MS, (r) => r.current === version);
  }

  async runHook(state: DeploymentState, hook: DeploymentHook, version: string): Promise<void> {
    await this.runTask(state, hook, version);
  }

  async openWindow(state: DeploymentState): Promise<void> {
    // Open at once on the newest report (status shows the step's window from its start), then
    // again on a report begun now, so the window counts exactly what came after.
    const latest = await this.report(state);
    if (latest) this.deps.windows.open(windowKey(state), latest);
    this.deps.windows.open(windowKey(state), await this.required(state, { fresh: true }));
  }

  markRelease(
    state: DeploymentState,
    version: string,
    verdict: ReleaseVerdict,
    reason: string,
  ): Promise<void> {
    return this.deps.store.markRelease(state.app, state.env, version, verdict, reason, this.deps.now());
  }

  async readOutcomes(state: DeploymentState): Promise<OutcomeReading> {
    // Read after the request: the served-request report counts every request up to this moment.
    return outcomesOf(await this.required(state, { fresh: true }));
  }

  async observe(state: DeploymentState): Promise<Extract<EngineEvent, { type: 'observed' }>> {
    const report = await this.required(state);
    // A restart watches its new instances only: the old ones are the same release.
    const exclude = state.replace?.old ?? [];
    const target = observeRelease(report, state.to, state.instances, exclude);
    if (state.replace)
      return { type: 'observed', target, previous: null, traffic: { requests: 0, errors: 0 } };
    const previous =
      state.from !== null && state.from !== state.to
        ? observeRelease(report, state.from, state.instances)
        : null;
    const traffic =
      state.phase === 'shifting'
        ? this.deps.windows.count(windowKey(state), report, state.to)
        : { requests: 0, errors: 0 };
    return { type: 'observed', target, previous, traffic };
  }

  private async leave(state: DeploymentState, version: string, now: boolean): Promise<void> {
    const revision = await this.edit(state, (doc) => withoutRelease(doc, version, { now }));
    await this.until(state, revision, `release ${version} stopped`, this.drainMs(state), (r) =>
      r.instances.every((i) => i.version !== version),
    );
  }

  /** A hook of the release, run by the host once under a fresh id; FERRY_E_HOOK_FAILED when it fails. */
  private async runTask(state: DeploymentState, hook: string, version: string): Promise<void> {
    const app = this.appConfig(state);
    await runHostTask(
      this.deps.link,
      { host: this.hostOf(state), app: state.app, env: state.env },
      { type: 'run-hook', hook, version, vars: deploymentVariables(state) },
      {
        what: `the ${hook} hook of ${version}`,
        // Each line has the timeout; the host may take a moment more to say how it went.
        timeoutMs: (app?.hooks.timeoutMs ?? 0) * Math.max(1, hookLines(app, hook)) + ACK_MARGIN_MS,
        idPrefix: `${state.id}.${hook}`,
      },
    );
  }

  private edit(state: DeploymentState, change: Parameters<HostLink['edit']>[3]): Promise<number> {
    return this.deps.link.edit(this.hostOf(state), state.app, state.env, change);
  }

  private async until(
    state: DeploymentState,
    revision: number,
    what: string,
    timeoutMs: number,
    accept: (report: AppReport) => boolean,
  ): Promise<AppReport> {
    const report = await this.deps.link.until(this.hostOf(state), state.app, state.env, {
      revision,
      what,
      timeoutMs,
      accept,
    });
    return report;
  }

  private async report(state: DeploymentState): Promise<AppReport | undefined> {
    return this.deps.link.report(this.hostOf(state), state.app, state.env);
  }

  private async required(state: DeploymentState, opts: { fresh?: boolean } = {}): Promise<AppReport> {
    const report = opts.fresh
      ? await this.deps.link.freshReport(this.hostOf(state), state.app, state.env, FRESH_REPORT_MS)
      : await this.report(state);
    if (report === undefined)
      throw new FerryError(
        'FERRY_E_HOST_TIMEOUT',
        `host ${this.hostOf(state)}: expected a report of ${state.app}.${state.env}, got none yet`,
      );
    return report;
  }

  private hostOf(state: DeploymentState): string {
    return this.deps.hostOf(state.app, state.env);
  }

  private appConfig(state: DeploymentState) {
    const apps = this.deps.config.current.apps;
    return Object.hasOwn(apps, state.app) ? apps[state.app] : undefined;
  }

  /** A drain's limit: the app's stop grace, then what a host may take to say it is done. */
  private drainMs(state: DeploymentState): number {
    return (this.appConfig(state)?.stopGraceMs ?? 0) * 2 + ACK_MARGIN_MS;
  }
}

/** How many lines a hook of the app has (its timeout applies to each). */
function hookLines(app: AppConfig | undefined, hook: string): number {
  return app === undefined ? 0 : (appHookLines(app, hook)?.length ?? 0);
}

function windowKey(state: DeploymentState): string {
  return `${state.app}.${state.env}`;
}
