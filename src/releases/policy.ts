import { cronParser } from '../lib/cron.js';
import semver from 'semver';
import { DEFAULT_AUTO_DEPLOY, type AutoDeployPolicy, type DeployWindow } from '../config/auto-deploy.js';
import type { AppConfig } from '../config/types.js';
import type { ReleaseStatus } from '../store/store.js';

/**
 * The intake's policies as pure functions of the time and what is known (docs/triggers.md#policies):
 * which environments a release goes to, whether it deploys now, waits (a window, a debounce) or
 * is skipped, and which of two releases is the newer. The intake owns time and the store.
 */

/** A release as the policy compares it. */
export interface Versioned {
  readonly version: string;
  readonly publishedAt: number | null;
}

/** What the policy decides for one release in one environment. */
export type PolicyDecision =
  | { readonly action: 'deploy' }
  | { readonly action: 'wait'; readonly until: number; readonly reason: string }
  | { readonly action: 'skip'; readonly reason: string };

/** An off policy: an app without triggers or sources, or `auto_deploy: false`. */
const OFF: AutoDeployPolicy = { ...DEFAULT_AUTO_DEPLOY, enabled: false };

/**
 * An environment's policy: as configured, else on where the app has a trigger or a release source
 * (a watcher), else off.
 */
export function policyOf(app: AppConfig, env: string): AutoDeployPolicy {
  const configured = Object.hasOwn(app.environments, env) ? app.environments[env]!.autoDeploy : null;
  if (configured !== null) return configured;
  const { generic, github, registry } = app.triggers;
  const hasTrigger = generic !== null || github !== null || registry !== null;
  const hasSource = app.sources.github !== null || app.sources.http !== null;
  return hasTrigger || hasSource ? DEFAULT_AUTO_DEPLOY : OFF;
}

/**
 * The environments a release is considered for: the one it names; else those whose `auto_deploy`
 * is configured on, and the app's first environment unless it is configured (its default applies).
 */
export function targetEnvironments(app: AppConfig, named: string | null): readonly string[] {
  if (named !== null) return [named];
  return Object.keys(app.environments).filter((env, index) => {
    const configured = app.environments[env]!.autoDeploy;
    return configured !== null ? configured.enabled : index === 0;
  });
}

/**
 * -1, 0 or 1 as `a` is older than, as new as or newer than `b`: semver order when both are semver,
 * else by publication time; null when neither orders them.
 */
export function compareReleases(a: Versioned, b: Versioned): number | null {
  const va = semver.valid(a.version);
  const vb = semver.valid(b.version);
  if (va !== null && vb !== null) return semver.compare(va, vb);
  if (a.version === b.version) return 0;
  if (a.publishedAt !== null && b.publishedAt !== null) return Math.sign(a.publishedAt - b.publishedAt);
  return null;
}

/** True when `a` is known to be newer than `b`, or nothing orders them (the later offer wins). */
export function isNewer(a: Versioned, b: Versioned): boolean {
  const order = compareReleases(a, b);
  return order === null ? a.version !== b.version : order > 0;
}

/** Whether a window is open at `now`: until when, or when the next one opens. */
export type WindowState =
  | { readonly open: true; readonly closesAt: number | null }
  | { readonly open: false; readonly opensAt: number };

/** The windows' state at `now` (no windows: always open). */
export function windowState(windows: readonly DeployWindow[], timezone: string, now: number): WindowState {
  if (windows.length === 0) return { open: true, closesAt: null };
  let closesAt: number | null = null;
  let opensAt = Infinity;
  for (const window of windows) {
    // Cron fires on whole minutes: one just now counts as opened.
    const last = cronParser()
      .parse(window.cron, { tz: timezone, currentDate: new Date(now + 1) })
      .prev()
      .getTime();
    if (now < last + window.durationMs) closesAt = Math.max(closesAt ?? 0, last + window.durationMs);
    const next = cronParser()
      .parse(window.cron, { tz: timezone, currentDate: new Date(now) })
      .next()
      .getTime();
    opensAt = Math.min(opensAt, next);
  }
  return closesAt !== null ? { open: true, closesAt } : { open: false, opensAt };
}

/** What the policy knows of one environment when it decides. */
export interface PolicyInput {
  readonly policy: AutoDeployPolicy;
  readonly candidate: Versioned;
  /** The ledger's verdict on this release in this environment, if it was deployed there. */
  readonly ledger: ReleaseStatus | null;
  /** The release the environment serves, if any. */
  readonly current: Versioned | null;
  readonly now: number;
  /** When the last release of a burst arrived for this environment (debounce runs from it). */
  readonly lastOfferAt: number;
}

/**
 * Deploy, wait or skip, in this order: off, outside the version range, marked bad or rolled back
 * (a rollback is not undone by a source), serving already, not newer than what serves; then a
 * debounce not yet quiet and a closed window make it wait.
 */
export function decide(input: PolicyInput): PolicyDecision {
  const { policy, candidate, current, now } = input;
  if (!policy.enabled) return { action: 'skip', reason: 'auto_deploy is off' };
  if (policy.versions !== null) {
    const version = semver.valid(candidate.version);
    if (version === null || !semver.satisfies(version, policy.versions))
      return {
        action: 'skip',
        reason: `version ${candidate.version} is outside the range "${policy.versions}"`,
      };
  }
  if (input.ledger === 'bad' || input.ledger === 'rolled-back')
    return { action: 'skip', reason: `release ${candidate.version} is marked ${input.ledger} in the ledger` };
  if (current !== null && current.version === candidate.version)
    return { action: 'skip', reason: `release ${candidate.version} is serving already` };
  if (current !== null && !isNewer(candidate, current))
    return {
      action: 'skip',
      reason: `release ${candidate.version} is not newer than ${current.version}, which serves`,
    };
  const quietAt = input.lastOfferAt + policy.debounceMs;
  if (now < quietAt)
    return {
      action: 'wait',
      until: quietAt,
      reason: `debounce: deploys at ${iso(quietAt)} if no newer release comes`,
    };
  const window = windowState(policy.windows, policy.timezone, now);
  if (!window.open)
    return {
      action: 'wait',
      until: window.opensAt,
      reason: `outside the deployment windows: the next opens at ${iso(window.opensAt)}`,
    };
  return { action: 'deploy' };
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}
