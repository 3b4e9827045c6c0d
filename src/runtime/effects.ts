import path from 'node:path';
import type { AppHost } from '../agent/app-host.js';
import { installOnHost } from '../agent/install.js';
import { activateRelease, type InstalledRelease } from '../artifacts/index.js';
import type { FerryConfig } from '../config/types.js';
import type { OutcomeReading } from '../engine/served-report.js';
import type { DeploymentHook, DeploymentState, EngineEvent, ReleaseVerdict } from '../engine/types.js';
import { redactUrl } from '../lib/redact.js';
import type { Store } from '../store/store.js';
import { deploymentHookVariables } from './hook-variables.js';

/** What the deployment run needs from the outside world; each call is idempotent. */
export interface EffectPort {
  install(state: DeploymentState, version: string): Promise<void>;
  /** `exclude`: instances that do not count (a restart's old ones). */
  ensureInstances(
    state: DeploymentState,
    version: string,
    count: number,
    exclude?: readonly string[],
  ): Promise<void>;
  /** Drains and stops these instances of the release (a restart's old ones). */
  retireInstances(state: DeploymentState, version: string, ids: readonly string[]): Promise<void>;
  /** Keeps at most `count` instances of the release not named in `exclude`; the others drain and stop. */
  trimInstances(
    state: DeploymentState,
    version: string,
    exclude: readonly string[],
    count: number,
  ): Promise<void>;
  /** The ids of the release's serving instances now (what a restart replaces). */
  instanceIds(app: string, env: string, version: string): string[];
  setTraffic(state: DeploymentState, weights: Readonly<Record<string, number>>): Promise<void>;
  retire(state: DeploymentState, version: string): Promise<void>;
  /** Out of the router and stopped without waiting for the drain (a forced end). */
  stopInstances(state: DeploymentState, version: string): Promise<void>;
  /** Points the app's `current` symlink at the release. */
  activate(state: DeploymentState, version: string): Promise<void>;
  /** Runs a deployment hook of the release with its timeout; rejects with FERRY_E_HOOK_FAILED. */
  runHook(state: DeploymentState, hook: DeploymentHook, version: string): Promise<void>;
  openWindow(state: DeploymentState): Promise<void>;
  markRelease(
    state: DeploymentState,
    version: string,
    verdict: ReleaseVerdict,
    reason: string,
  ): Promise<void>;
  observe(state: DeploymentState): Promise<Extract<EngineEvent, { type: 'observed' }>>;
  /** The router's cumulative request outcomes of the app's route (for the served-request report). */
  readOutcomes(state: DeploymentState): Promise<OutcomeReading>;
}

/** The effect port on this host: artifacts, the app's AppHost, the store. */
export class HostEffects implements EffectPort {
  constructor(
    private readonly deps: {
      readonly store: Store;
      readonly hostFor: (app: string, env: string) => AppHost;
      /** The download cache settings in effect (`ferry apply` may change them). */
      readonly artifactCache: () => FerryConfig['artifacts'];
      readonly now: () => number;
      /** Told of every install: what was read, from where, and whether the cache was asked (metrics). */
      readonly onInstalled?: (
        state: DeploymentState,
        installed: InstalledRelease,
        cacheAsked: boolean,
      ) => void;
    },
  ) {}

  async install(state: DeploymentState, version: string): Promise<void> {
    const host = this.deps.hostFor(state.app, state.env);
    // The app's configuration as its host runs it (the one `ferry apply` applied last).
    const app = host.app;
    const { installed, url, cacheAsked } = await installOnHost(
      host,
      version,
      null,
      this.deps.artifactCache(),
    );
    this.deps.onInstalled?.(state, installed, cacheAsked);
    // Into the ledger only now, installed and verified: a failed install leaves no release behind.
    const release = await this.deps.store.getRelease(state.app, state.env, version);
    await this.deps.store.upsertRelease({
      app: state.app,
      env: state.env,
      version,
      artifactUrl: redactUrl(url),
      checksum: installed.checksum,
      createdAt: release?.createdAt ?? this.deps.now(),
    });
    // Every deployment of the release runs it (a migration, a cache warm-up), not only the first install.
    await host.runHook({ hook: 'before_start', lines: app.hooks.beforeStart, version });
  }

  ensureInstances(
    state: DeploymentState,
    version: string,
    count: number,
    exclude: readonly string[] = [],
  ): Promise<void> {
    // A rollback goes to a release proven on this host: one passing check admits its instances.
    return this.deps
      .hostFor(state.app, state.env)
      .ensureInstances(version, count, { quickHealth: state.kind === 'rollback', exclude });
  }

  retireInstances(state: DeploymentState, version: string, ids: readonly string[]): Promise<void> {
    return this.deps.hostFor(state.app, state.env).retireInstances(version, ids);
  }

  trimInstances(
    state: DeploymentState,
    version: string,
    exclude: readonly string[],
    count: number,
  ): Promise<void> {
    return this.deps.hostFor(state.app, state.env).trimInstances(version, exclude, count);
  }

  instanceIds(app: string, env: string, version: string): string[] {
    return this.deps.hostFor(app, env).instanceIds(version);
  }

  setTraffic(state: DeploymentState, weights: Readonly<Record<string, number>>): Promise<void> {
    return this.deps.hostFor(state.app, state.env).setTraffic(weights);
  }

  retire(state: DeploymentState, version: string): Promise<void> {
    return this.deps.hostFor(state.app, state.env).retire(version);
  }

  stopInstances(state: DeploymentState, version: string): Promise<void> {
    return this.deps.hostFor(state.app, state.env).retire(version, { drain: false });
  }

  activate(state: DeploymentState, version: string): Promise<void> {
    return activateRelease(this.deps.hostFor(state.app, state.env).releasesDir, version);
  }

  async runHook(state: DeploymentState, hook: DeploymentHook, version: string): Promise<void> {
    const host = this.deps.hostFor(state.app, state.env);
    const lines = hook === 'after_switch' ? host.app.hooks.afterSwitch : [];
    if (lines.length === 0) return;
    // Through the app's host: the clean environment, its account, and evidence without secrets.
    const releaseDir = path.join(host.releasesDir, version);
    await host.runHook({ hook, lines, version, vars: deploymentHookVariables(state, version, releaseDir) });
  }

  openWindow(state: DeploymentState): Promise<void> {
    return this.deps.hostFor(state.app, state.env).openWindow();
  }

  markRelease(
    state: DeploymentState,
    version: string,
    verdict: ReleaseVerdict,
    reason: string,
  ): Promise<void> {
    return this.deps.store.markRelease(state.app, state.env, version, verdict, reason, this.deps.now());
  }

  readOutcomes(state: DeploymentState): Promise<OutcomeReading> {
    return this.deps.hostFor(state.app, state.env).readOutcomes();
  }

  async observe(state: DeploymentState): Promise<Extract<EngineEvent, { type: 'observed' }>> {
    const host = this.deps.hostFor(state.app, state.env);
    // A restart watches its new instances only: the old ones are the same release.
    const exclude = state.replace?.old ?? [];
    const target = await host.observe(state.to, state.instances, exclude);
    if (state.replace)
      return { type: 'observed', target, previous: null, traffic: { requests: 0, errors: 0 } };
    const previous =
      state.from !== null && state.from !== state.to ? await host.observe(state.from, state.instances) : null;
    const traffic =
      state.phase === 'shifting' ? await host.trafficWindow(state.to) : { requests: 0, errors: 0 };
    return { type: 'observed', target, previous, traffic };
  }
}
