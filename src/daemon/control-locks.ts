import type { LOCK_CHANGES } from '../api/wire/events.js';
import type {
  LockBody,
  LockResponse,
  LocksResponse,
  LockView,
  UnlockBody,
  UnlockResponse,
} from '../api/types.js';
import { assertEnvironment, resolveAppEnv } from '../config/resolve.js';
import type { ConfigSource } from '../config/types.js';
import { FerryError } from '../errors/ferry-error.js';
import type { EventSink } from '../events/publisher.js';
import type { Clock } from '../lib/clock.js';
import { parseDuration } from '../lib/duration.js';
import type { Logger } from '../lib/logger.js';
import type { DeployLocks } from '../runtime/deploy-locks.js';
import { DeployQueue, type QueueOutcome, type StartQueuedDeploy } from '../server/locks/deploy-queue.js';
import { describeLock } from '../server/locks/lock-errors.js';
import {
  describeTarget,
  MAX_LOCK_TTL_MS,
  MIN_LOCK_TTL_MS,
  type Lock,
  type LockTarget,
} from '../server/locks/lock.js';
import { LockKeeper, type LockChange } from '../server/locks/lock-keeper.js';
import { Locks } from '../server/locks/locks.js';
import type { KvStore } from '../store/kv/kv.js';
import type { Store } from '../store/store.js';

/** The locks of the control plane as the daemon uses them: the Deployer's port, the API's operations. */
export interface ControlLocks {
  /** What the Deployer asks before a deploy or restart. */
  readonly port: DeployLocks;
  /** How queued deploys start (the Deployer's deploy): set once it exists. */
  startQueuedWith(start: StartQueuedDeploy): void;
  /** Watches the locks; starts what waits for a lock that ended while the daemon was down. */
  start(): Promise<void>;
  stop(): void;
  lock(body: LockBody, actor: string): Promise<LockResponse>;
  unlock(body: UnlockBody, actor: string): Promise<UnlockResponse>;
  /** The locks that hold and the queued deploys, of one environment or app when named. */
  list(filter: { env?: string; app?: string }): Promise<LocksResponse>;
}

/**
 * Builds the locks on the control plane's key-value store (src/server/locks): each lock and unlock
 * audited, and each change of a lock or of a queued deploy published as a `lock` event.
 */
export function assembleLocks(opts: {
  readonly kv: KvStore;
  readonly clock: Clock;
  readonly config: ConfigSource;
  readonly store: Store;
  readonly events: EventSink;
  readonly logger: Logger;
}): ControlLocks {
  const { kv, clock, config, store, events } = opts;
  const logger = opts.logger.child({ part: 'locks' });
  const locks = new Locks(kv, clock);
  const queue = new DeployQueue({ kv, clock, locks, logger, onOutcome: (o) => recordOutcome(o) });
  const keeper = new LockKeeper({ kv, clock, locks, queue, logger, onChange: (c) => publishChange(c) });

  const publish = (target: LockTarget, change: QueueOrLockChange, message: string) =>
    events.publish({ kind: 'lock', app: target.app, env: target.env, change, message });

  function publishChange(change: LockChange): void {
    if (change.kind === 'locked') publish(change.lock, 'locked', describeLock(change.lock));
    else if (change.kind === 'unlocked')
      publish(change.target, 'unlocked', `${describeTarget(change.target)} was unlocked`);
    else publish(change.target, 'expired', `the lock of ${describeTarget(change.target)} expired`);
  }

  async function recordOutcome(outcome: QueueOutcome): Promise<void> {
    const { queued } = outcome;
    const target = { env: queued.env, app: queued.app };
    const what = `the deploy of ${queued.version} queued by ${queued.actor}`;
    if (outcome.kind === 'started')
      publish(target, 'queue-started', `${what} started: deployment ${outcome.deployment}`);
    else if (outcome.kind === 'locked-again')
      publish(target, 'queued', `${what} waits again: ${describeLock(queued.heldBy)}`);
    else publish(target, 'queue-failed', `${what} could not start: ${queued.failure?.message ?? ''}`);
    await store.audit({
      at: clock.now(),
      actor: queued.actor,
      action: 'deploy',
      target: `${queued.app}.${queued.env}`,
      detail: {
        queued: outcome.kind,
        version: queued.version,
        ...(outcome.kind === 'started' ? { deployment: outcome.deployment } : {}),
        ...(queued.failure ? { failure: queued.failure.code } : {}),
      },
    });
  }

  const port: DeployLocks = {
    holding: (app, env) => locks.holding(app, env),
    enqueue: async (request, heldBy) => {
      const result = await queue.enqueue(request, heldBy);
      const target = { env: request.env, app: request.app };
      publish(
        target,
        'queued',
        `the deploy of ${request.version} queued by ${request.actor} waits: ${describeLock(heldBy)}`,
      );
      await store.audit({
        at: clock.now(),
        actor: request.actor,
        action: 'deploy',
        target: `${request.app}.${request.env}`,
        detail: { queued: 'queued', version: request.version, lock: describeTarget(heldBy) },
      });
      return result;
    },
  };

  return {
    port,
    startQueuedWith: (start) => queue.startWith(start),
    start: () => keeper.start(),
    stop: () => keeper.stop(),

    async lock(body, actor) {
      const target = configuredTarget(config, body);
      const ttlMs = body.ttl === undefined ? undefined : parseTtl(body.ttl);
      const taken = await locks.lock({
        ...target,
        owner: actor,
        reason: body.reason,
        ...(ttlMs ? { ttlMs } : {}),
      });
      await store.audit({
        at: clock.now(),
        actor,
        action: 'lock',
        target: auditTarget(target),
        detail: {
          reason: taken.lock.reason,
          expiresAt: taken.lock.expiresAt,
          renewed: taken.replaced !== null,
        },
      });
      return { lock: view(taken.lock), replaced: taken.replaced && view(taken.replaced) };
    },

    async unlock(body, actor) {
      // Not checked against the configuration: a lock outlives its app leaving it.
      const target = { env: body.env, app: body.app ?? null };
      const released = await locks.unlock(target);
      await store.audit({
        at: clock.now(),
        actor,
        action: 'unlock',
        target: auditTarget(target),
        detail: { owner: released.owner, reason: released.reason },
      });
      return { lock: view(released) };
    },

    async list(filter) {
      if (filter.env !== undefined) assertEnvironment(config.current, filter.env);
      const applies = (t: { env: string; app: string | null }) =>
        (filter.env === undefined || t.env === filter.env) &&
        (filter.app === undefined || t.app === null || t.app === filter.app);
      return {
        locks: (await locks.list()).filter(applies).map(view),
        queued: (await queue.list()).filter(applies),
      };
    },
  };
}

type QueueOrLockChange = (typeof LOCK_CHANGES)[number];

/** A lock's target as the request names it, checked against the configuration in effect. */
function configuredTarget(config: ConfigSource, body: LockBody): LockTarget {
  if (body.app === undefined) {
    assertEnvironment(config.current, body.env);
    return { env: body.env, app: null };
  }
  const { app, env } = resolveAppEnv(config.current, body.app, body.env);
  return { env, app };
}

/** The API's `ttl` in Ferry's duration syntax, refused as written when it is none or out of range. */
function parseTtl(ttl: string): number {
  const ms = parseDuration(ttl);
  if (ms !== undefined && ms >= MIN_LOCK_TTL_MS && ms <= MAX_LOCK_TTL_MS) return ms;
  throw new FerryError(
    'FERRY_E_USAGE',
    `ttl: expected a duration from 1s to 7d like "2h" or "3d", got ${JSON.stringify(ttl.slice(0, 40))}`,
    { where: 'ttl', expected: 'a duration from 1s to 7d', got: ttl.slice(0, 40) },
  );
}

function auditTarget(target: LockTarget): string {
  return target.app === null ? target.env : `${target.app}.${target.env}`;
}

function view(lock: Lock): LockView {
  return { ...lock };
}
