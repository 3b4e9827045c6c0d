import type { DeployResponse } from '../api/types.js';
import { resolveAppEnv } from '../config/resolve.js';
import type { ConfigSource } from '../config/types.js';
import { isFerryError, messageOf } from '../errors/ferry-error.js';
import type { Clock, TimerHandle } from '../lib/clock.js';
import type { Logger } from '../lib/logger.js';
import { redactUrl } from '../lib/redact.js';
import type { KvStore } from '../store/kv/kv.js';
import type { Store } from '../store/store.js';
import type { KvReleaseCatalog } from './kv-catalog.js';
import { decide, isNewer, policyOf, targetEnvironments } from './policy.js';
import type { RELEASE_CHANGES } from '../api/wire/events.js';
import type { EventSink } from '../events/publisher.js';
import type { WaitingReleaseView } from './recorder.js';
import type { CatalogEntry, IntakeOutcome, ReleaseCandidate, ReleaseIntake } from './release.js';

/** Where the release waiting in each app and environment is kept: `/intake/<app>/<env>`. */
export const PENDING_PREFIX = '/intake/';

/** A deploy refused for these reasons is tried again later: they pass by themselves. */
const RETRYABLE = new Set([
  'FERRY_E_DEPLOYMENT_IN_PROGRESS',
  'FERRY_E_LOCKED',
  'FERRY_E_ROLLOUT_IN_PROGRESS',
]);
/** A wake-up that failed (the store away) is tried again after this long. */
const WAKE_RETRY_MS = 30_000;
/** Timers wake at least this often (a far window is re-read; setTimeout overflows past 24.8 days). */
const MAX_TIMER_MS = 6 * 60 * 60 * 1000;

/** The release that waits in one environment, kept in the KV store so it outlives a restart. */
interface Pending {
  readonly candidate: ReleaseCandidate;
  /** When the last release of the burst arrived (the debounce runs from it). */
  readonly lastOfferAt: number;
  /** Deploys refused because one was running, tried again with backoff. */
  readonly attempts: number;
  readonly retryAt: number | null;
  /** Why it waits, and until when it is decided again (absent from records of an older Ferry). */
  readonly reason?: string;
  readonly until?: number;
}

/** The audit log's actions as the global event stream's release changes. */
const RELEASE_CHANGE_OF = new Map<string, (typeof RELEASE_CHANGES)[number]>([
  ['release-recorded', 'recorded'],
  ['release-deploy', 'deploying'],
  ['release-queued', 'queued'],
  ['release-waiting', 'waiting'],
  ['release-skipped', 'skipped'],
]);

export interface ReleaseIntakeDeps {
  /** Where each decision is published too (the global event stream). */
  readonly events?: EventSink;
  readonly kv: KvStore;
  readonly catalog: KvReleaseCatalog;
  /** The apps' policies are read at each decision: `ferry apply` changes them. */
  readonly config: ConfigSource;
  readonly store: Pick<Store, 'getRelease' | 'getCurrent' | 'audit'>;
  /** The path of `ferry deploy` (DaemonControl.deploy, queued behind locks where it can be). */
  readonly deploy: (
    request: { readonly app: string; readonly env: string; readonly version: string },
    actor: string,
  ) => Promise<DeployResponse>;
  readonly clock: Clock;
  readonly logger: Logger;
  /** Backoff of a deploy refused because one is running: first wait, longest wait, attempts. */
  readonly retry?: { readonly firstMs: number; readonly maxMs: number; readonly attempts: number };
}

const DEFAULT_RETRY = { firstMs: 5_000, maxMs: 5 * 60_000, attempts: 100 };

function pendingKey(app: string, env: string): string {
  return `${PENDING_PREFIX}${encodeURIComponent(app)}/${encodeURIComponent(env)}`;
}

/**
 * The one way in for new releases (docs/triggers.md#policies): records each in the catalog, then in
 * each target environment deploys it through `ferry deploy`'s path, keeps it waiting (a closed
 * window, a debounce, a deployment running: one per environment, the newest, in the KV store with a
 * timer on the clock), or skips it with the reason. Every decision goes to the audit log.
 */
export class KvReleaseIntake implements ReleaseIntake {
  private readonly timers = new Map<string, TimerHandle>();
  /** Decisions per app and environment run one at a time (an offer and a timer may meet). */
  private readonly chains = new Map<string, Promise<unknown>>();
  private stopped = false;

  constructor(private readonly deps: ReleaseIntakeDeps) {}

  /** Takes up the releases that were waiting when the daemon stopped. */
  async start(): Promise<void> {
    const { entries } = await this.deps.kv.range(PENDING_PREFIX);
    for (const entry of entries) {
      const pending = JSON.parse(entry.value) as Pending;
      this.schedule(pending.candidate.app, pending.candidate.env ?? '', this.deps.clock.now());
    }
  }

  /** Stops the timers and waits for decisions under way; what waits stays in the store. */
  async stop(): Promise<void> {
    this.stopped = true;
    for (const handle of this.timers.values()) this.deps.clock.clearTimeout(handle);
    this.timers.clear();
    await Promise.allSettled([...this.chains.values()]);
  }

  async offer(candidate: ReleaseCandidate): Promise<readonly IntakeOutcome[]> {
    const config = this.deps.config.current;
    const { app: name } = resolveAppEnv(config, candidate.app, candidate.env ?? undefined);
    const app = config.apps[name]!;
    const now = this.deps.clock.now();
    await this.recordAt(candidate, now);
    const outcomes: IntakeOutcome[] = [];
    for (const env of targetEnvironments(app, candidate.env)) {
      const target = { ...candidate, env };
      outcomes.push(await this.serial(name, env, () => this.consider(target, now, false)));
    }
    return outcomes;
  }

  /**
   * Records the release in the catalog and deploys it nowhere (`ferry release add --no-deploy`):
   * the same refusals as offer (an unknown app, FERRY_E_RELEASE_CONFLICT).
   */
  async record(candidate: ReleaseCandidate): Promise<CatalogEntry> {
    const config = this.deps.config.current;
    resolveAppEnv(config, candidate.app, candidate.env ?? undefined);
    return this.recordAt(candidate, this.deps.clock.now());
  }

  private async recordAt(candidate: ReleaseCandidate, now: number): Promise<CatalogEntry> {
    const { entry, created } = await this.deps.catalog.record(candidate, now);
    if (created)
      await this.audit(candidate, 'release-recorded', null, {
        ...(candidate.artifact !== null
          ? { url: redactUrl(candidate.artifact.url), checksum: candidate.artifact.checksum }
          : {}),
        ...(candidate.publishedAt !== null ? { publishedAt: candidate.publishedAt } : {}),
      });
    return entry;
  }

  /** Every release waiting to deploy, by app and environment (`ferry status`). */
  async waiting(): Promise<WaitingReleaseView[]> {
    const { entries } = await this.deps.kv.range(PENDING_PREFIX);
    return entries.map((entry) => {
      const { candidate, lastOfferAt, reason, until } = JSON.parse(entry.value) as Pending;
      return {
        app: candidate.app,
        env: candidate.env ?? '',
        version: candidate.version,
        trigger: candidate.trigger,
        since: lastOfferAt,
        reason: reason ?? null,
        until: until ?? null,
      };
    });
  }

  /** The release waiting in an environment, if any (`ferry status`, tests). */
  async pending(app: string, env: string): Promise<ReleaseCandidate | null> {
    const entry = await this.deps.kv.get(pendingKey(app, env));
    return entry === undefined ? null : (JSON.parse(entry.value) as Pending).candidate;
  }

  private serial<T>(app: string, env: string, work: () => Promise<T>): Promise<T> {
    const key = pendingKey(app, env);
    const before = this.chains.get(key) ?? Promise.resolve();
    const next = before.then(work, work);
    const settled = next.catch(() => undefined);
    this.chains.set(key, settled);
    void settled.then(() => {
      if (this.chains.get(key) === settled) this.chains.delete(key);
    });
    return next;
  }

  /** One release in one environment (`candidate.env`): deploy, wait or skip. */
  private async consider(
    candidate: ReleaseCandidate,
    now: number,
    fromTimer: boolean,
  ): Promise<IntakeOutcome> {
    const env = candidate.env!;
    const { app: name, version } = candidate;
    const app = Object.hasOwn(this.deps.config.current.apps, name)
      ? this.deps.config.current.apps[name]
      : undefined;
    const key = pendingKey(name, env);
    const stored = await this.deps.kv.get(key);
    const pending = stored === undefined ? null : (JSON.parse(stored.value) as Pending);
    if (app === undefined || !Object.hasOwn(app.environments, env)) {
      await this.deps.kv.delete(key);
      return this.skip(candidate, `${name} is no longer configured in ${env}`);
    }
    if (
      !fromTimer &&
      pending !== null &&
      pending.candidate.version !== version &&
      !isNewer(candidate, pending.candidate)
    )
      return this.skip(candidate, `the newer release ${pending.candidate.version} waits to deploy`);
    const current = await this.currentOf(name, env);
    const ledger = (await this.deps.store.getRelease(name, env, version))?.status ?? null;
    const lastOfferAt = fromTimer && pending !== null ? pending.lastOfferAt : now;
    const decision = decide({
      policy: policyOf(app, env),
      candidate,
      ledger,
      current,
      now,
      lastOfferAt,
    });
    if (decision.action === 'skip') {
      if (pending !== null && pending.candidate.version === version) await this.deps.kv.delete(key);
      return this.skip(candidate, decision.reason);
    }
    if (decision.action === 'wait') {
      const attempts = fromTimer && pending !== null ? pending.attempts : 0;
      await this.keep(key, {
        candidate,
        lastOfferAt,
        attempts,
        retryAt: null,
        reason: decision.reason,
        until: decision.until,
      });
      this.schedule(name, env, decision.until);
      await this.audit(candidate, 'release-waiting', env, { reason: decision.reason });
      return { env, action: 'waiting', reason: decision.reason, deployment: null };
    }
    return this.deployNow(candidate, key, pending, lastOfferAt, fromTimer);
  }

  private async deployNow(
    candidate: ReleaseCandidate,
    key: string,
    pending: Pending | null,
    lastOfferAt: number,
    fromTimer: boolean,
  ): Promise<IntakeOutcome> {
    const env = candidate.env!;
    const { app, version, trigger } = candidate;
    let answer: DeployResponse;
    try {
      answer = await this.deps.deploy({ app, env, version }, trigger.actor);
    } catch (error) {
      const code = isFerryError(error) ? error.code : 'FERRY_E_INTERNAL';
      const retry = this.deps.retry ?? DEFAULT_RETRY;
      const attempts = (fromTimer && pending !== null ? pending.attempts : 0) + 1;
      if (RETRYABLE.has(code) && attempts <= retry.attempts) {
        const waitMs = Math.min(retry.maxMs, retry.firstMs * 2 ** Math.min(attempts - 1, 20));
        const retryAt = this.deps.clock.now() + waitMs;
        const reason = `${messageOf(error)}; tried again at ${new Date(retryAt).toISOString()}`;
        await this.keep(key, { candidate, lastOfferAt, attempts, retryAt, reason, until: retryAt });
        this.schedule(app, env, retryAt);
        await this.audit(candidate, 'release-waiting', env, { reason, code, attempts });
        return { env, action: 'waiting', reason, deployment: null };
      }
      if (pending !== null) await this.deps.kv.delete(key);
      this.deps.logger.warn({ app, env, version, code }, 'a release could not be deployed');
      return this.skip(candidate, `the deploy was refused (${code}): ${messageOf(error)}`);
    }
    // What waited is deployed, or older than what is.
    if (pending !== null && !isNewer(pending.candidate, candidate)) await this.deps.kv.delete(key);
    const outcome: IntakeOutcome =
      'queued' in answer
        ? {
            env,
            action: 'queued',
            reason: `queued behind the lock of ${answer.queued.heldBy.owner}`,
            deployment: null,
          }
        : 'deployment' in answer
          ? { env, action: 'deployed', reason: null, deployment: answer.deployment.id }
          : { env, action: 'deployed', reason: null, deployment: `rollout:${app}/${env}` };
    await this.audit(candidate, outcome.action === 'queued' ? 'release-queued' : 'release-deploy', env, {
      ...(outcome.deployment !== null ? { deployment: outcome.deployment } : {}),
    });
    this.deps.logger.info(
      { app, env, version, actor: trigger.actor, action: outcome.action },
      'a release deploys by itself',
    );
    return outcome;
  }

  private async currentOf(app: string, env: string) {
    const version = await this.deps.store.getCurrent(app, env);
    if (version === undefined) return null;
    return { version, publishedAt: (await this.deps.catalog.get(app, version))?.publishedAt ?? null };
  }

  private async keep(key: string, pending: Pending): Promise<void> {
    await this.deps.kv.put(key, JSON.stringify(pending));
  }

  private async skip(candidate: ReleaseCandidate, reason: string): Promise<IntakeOutcome> {
    const env = candidate.env!;
    await this.audit(candidate, 'release-skipped', env, { reason });
    return { env, action: 'skipped', reason, deployment: null };
  }

  /** The timer of one environment: at `at`, the release waiting there is decided again. */
  private schedule(app: string, env: string, at: number): void {
    if (this.stopped) return;
    const key = pendingKey(app, env);
    const earlier = this.timers.get(key);
    if (earlier !== undefined) this.deps.clock.clearTimeout(earlier);
    const delay = Math.min(MAX_TIMER_MS, Math.max(0, at - this.deps.clock.now()));
    const handle = this.deps.clock.setTimeout(() => {
      if (this.timers.get(key) === handle) this.timers.delete(key);
      this.serial(app, env, () => this.wake(key)).catch((error: unknown) => {
        // The store was away: decided again later, so a waiting release is never left behind.
        this.deps.logger.error({ err: messageOf(error), app, env }, 'a waiting release could not be decided');
        this.schedule(app, env, this.deps.clock.now() + WAKE_RETRY_MS);
      });
    }, delay);
    this.timers.set(key, handle);
  }

  private async wake(key: string): Promise<void> {
    if (this.stopped) return;
    const stored = await this.deps.kv.get(key);
    if (stored === undefined) return;
    const pending = JSON.parse(stored.value) as Pending;
    const now = this.deps.clock.now();
    if (pending.retryAt !== null && now < pending.retryAt) {
      this.schedule(pending.candidate.app, pending.candidate.env!, pending.retryAt);
      return;
    }
    await this.consider(pending.candidate, now, true);
  }

  private async audit(
    candidate: ReleaseCandidate,
    action: string,
    env: string | null,
    detail: Record<string, unknown>,
  ): Promise<void> {
    const change = RELEASE_CHANGE_OF.get(action);
    if (change !== undefined && this.deps.events !== undefined) {
      const where = env === null ? '' : ` in ${env}`;
      const why = typeof detail.reason === 'string' ? `: ${detail.reason}` : '';
      this.deps.events.publish({
        kind: 'release',
        app: candidate.app,
        env,
        change,
        version: candidate.version,
        trigger: candidate.trigger,
        message: `${candidate.app} ${candidate.version}${where} ${change} (${candidate.trigger.actor})${why}`,
      });
    }
    try {
      await this.deps.store.audit({
        at: this.deps.clock.now(),
        actor: candidate.trigger.actor,
        action,
        target: `app/${candidate.app}`,
        detail: {
          version: candidate.version,
          ...(env !== null ? { env } : {}),
          trigger: candidate.trigger.kind,
          ...detail,
        },
      });
    } catch (error) {
      this.deps.logger.error({ err: messageOf(error), action }, 'the intake could not write the audit log');
    }
  }
}
