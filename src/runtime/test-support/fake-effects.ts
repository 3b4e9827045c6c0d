import type { OutcomeCounts, OutcomeReading } from '../../engine/served-report.js';
import type {
  DeploymentHook,
  DeploymentState,
  EngineEvent,
  ReleaseObservation,
  ReleaseVerdict,
  TrafficWindow,
} from '../../engine/types.js';
import { FerryError } from '../../errors/ferry-error.js';
import type { Store } from '../../store/store.js';
import type { EffectPort } from '../effects.js';

/**
 * An effect port for runtime tests: releases become healthy as soon as they are ensured, and each
 * effect can be told to fail a number of times (the router gone during a drain, a failing hook).
 * Every call is logged as "effect version".
 */
export class FakeEffects implements EffectPort {
  readonly calls: string[] = [];
  readonly marks: Array<{ version: string; verdict: ReleaseVerdict }> = [];
  /** How many more calls of "effect version" fail; Infinity for always. */
  readonly failures = new Map<string, number>();
  traffic: TrafficWindow = { requests: 0, errors: 0 };
  weights: Readonly<Record<string, number>> = {};
  /** What the router has counted so far (readOutcomes answers it); a string makes the reading fail. */
  outcomes: OutcomeCounts | string = { releases: [], held: 0, rejected: 0, abandoned: 0 };
  private readonly running = new Map<string, number>();

  /** With a store, verdicts go into its release ledger as HostEffects' do. */
  constructor(private readonly store?: Store) {}

  /** Makes the next `times` calls of `effect` for `version` fail. */
  failNext(effect: string, version: string, times: number): void {
    this.failures.set(`${effect} ${version}`, times);
  }

  count(call: string): number {
    return this.calls.filter((c) => c === call).length;
  }

  install(_state: DeploymentState, version: string): Promise<void> {
    return this.call('install', version);
  }

  async ensureInstances(_state: DeploymentState, version: string, count: number): Promise<void> {
    await this.call('ensure-instances', version);
    this.running.set(version, count);
  }

  async retireInstances(_state: DeploymentState, version: string, ids: readonly string[]): Promise<void> {
    await this.call('retire-instances', `${version}:${ids.join(',')}`);
  }

  async trimInstances(
    _state: DeploymentState,
    version: string,
    _exclude: readonly string[],
    count: number,
  ): Promise<void> {
    await this.call('trim-instances', `${version}:${count}`);
    this.running.set(version, count);
  }

  instanceIds(_app: string, _env: string, version: string): string[] {
    return Array.from({ length: this.running.get(version) ?? 0 }, (_, n) => `${version}-old-${n}`);
  }

  async setTraffic(_state: DeploymentState, weights: Readonly<Record<string, number>>): Promise<void> {
    await this.call('set-traffic', Object.keys(weights).join(','));
    this.weights = weights;
  }

  async retire(_state: DeploymentState, version: string): Promise<void> {
    await this.call('retire', version);
    this.running.delete(version);
  }

  async stopInstances(_state: DeploymentState, version: string): Promise<void> {
    await this.call('stop-instances', version);
    this.running.delete(version);
  }

  activate(_state: DeploymentState, version: string): Promise<void> {
    return this.call('activate', version);
  }

  runHook(_state: DeploymentState, hook: DeploymentHook, version: string): Promise<void> {
    return this.call(`hook:${hook}`, version);
  }

  openWindow(): Promise<void> {
    return this.call('open-window', '');
  }

  async markRelease(
    state: DeploymentState,
    version: string,
    verdict: ReleaseVerdict,
    reason: string,
  ): Promise<void> {
    await this.call('mark-release', version);
    this.marks.push({ version, verdict });
    await this.store?.markRelease(state.app, state.env, version, verdict, reason, Date.now());
  }

  observe(state: DeploymentState): Promise<Extract<EngineEvent, { type: 'observed' }>> {
    const previous = state.from !== null && state.from !== state.to ? this.release(state.from) : null;
    return Promise.resolve({
      type: 'observed',
      target: this.release(state.to),
      previous,
      traffic: this.traffic,
    });
  }

  readOutcomes(): Promise<OutcomeReading> {
    if (typeof this.outcomes === 'string')
      return Promise.reject(new FerryError('FERRY_E_ROUTER_UNREACHABLE', this.outcomes));
    return Promise.resolve({ epoch: 'fake', counts: this.outcomes });
  }

  private release(version: string): ReleaseObservation {
    const n = this.running.get(version) ?? 0;
    return { version, desired: n, running: n, healthy: n, failed: 0 };
  }

  private call(effect: string, version: string): Promise<void> {
    const key = `${effect} ${version}`;
    this.calls.push(key);
    const left = this.failures.get(key) ?? 0;
    if (left <= 0) return Promise.resolve();
    this.failures.set(key, left - 1);
    return Promise.reject(
      new FerryError('FERRY_E_ROUTER_UNREACHABLE', `${effect} of ${version}: the router is gone`),
    );
  }

  /** The release runs already (it served before the deployment). */
  seed(version: string, count: number): void {
    this.running.set(version, count);
  }
}
