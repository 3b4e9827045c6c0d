import { z } from 'zod';
import type { StrategyKind } from '../../engine/types.js';
import { FerryError, isFerryError, messageOf } from '../../errors/ferry-error.js';
import type { Clock } from '../../lib/clock.js';
import type { Logger } from '../../lib/logger.js';
import { isName } from '../../lib/names.js';
import type { KvEntry, KvStore } from '../../store/kv/kv.js';
import { assertTargetNames, describeTarget, isoSecond, lockSchema, type Lock } from './lock.js';
import type { Locks } from './locks.js';

/** A deploy as it was asked for, kept until no lock holds its app. */
export interface QueuedDeployRequest {
  readonly app: string;
  readonly env: string;
  readonly version: string;
  readonly strategy: StrategyKind | null;
  readonly force: boolean;
  readonly actor: string;
}

/** A deploy waiting for a lock (`ferry deploy --queue`), or one that could not start once released. */
export interface QueuedDeploy extends QueuedDeployRequest {
  readonly queuedAt: number;
  /** The lock that held the app when the deploy was queued (or put back). */
  readonly heldBy: Lock;
  /** Why it did not start once no lock held it; null while it waits. */
  readonly failure: QueuedFailure | null;
}

export interface QueuedFailure {
  readonly code: string;
  readonly message: string;
  readonly at: number;
}

/** What happened to a queued deploy once no lock held its app. */
export type QueueOutcome =
  | { readonly kind: 'started'; readonly queued: QueuedDeploy; readonly deployment: string }
  | { readonly kind: 'locked-again'; readonly queued: QueuedDeploy }
  | { readonly kind: 'failed'; readonly queued: QueuedDeploy };

/** Starts a queued deploy as the Deployer does any deploy; `notes` go into its event log. */
export type StartQueuedDeploy = (
  request: QueuedDeployRequest,
  notes: readonly string[],
) => Promise<{ readonly id: string }>;

export const QUEUE_PREFIX = '/deploy-queue/';
/** How long a queued deploy that could not start stays to be seen (status) before its key expires. */
export const FAILED_KEPT_MS = 24 * 60 * 60 * 1000;

/** `/deploy-queue/<env>/<app>`: one queued deploy per app and environment. */
export function queueKey(app: string, env: string): string {
  assertTargetNames({ env, app });
  return `${QUEUE_PREFIX}${env}/${app}`;
}

/**
 * Deploys waiting for a lock, kept in the key-value store (they survive a restart), one per app and
 * environment: a newer one replaces the one before. `release` starts those no lock holds any more
 * (LockKeeper calls it when a lock is released or expires). Each is claimed by deleting its key with
 * a compare-and-swap before it starts, so it starts at most once however many servers release it;
 * a server that dies between the claim and the start loses it (said in its log), rather than
 * deploying it twice. A start refused by a lock taken meanwhile puts it back to wait for that one;
 * any other refusal is kept as its failure (shown by status for FAILED_KEPT_MS) and reported.
 */
export class DeployQueue {
  private start: StartQueuedDeploy | null = null;
  private releasing: Promise<void> = Promise.resolve();

  constructor(
    private readonly deps: {
      readonly kv: KvStore;
      readonly clock: Clock;
      readonly locks: Locks;
      readonly logger: Logger;
      /** Told every outcome once it is recorded (the daemon audits and publishes it). */
      readonly onOutcome?: (outcome: QueueOutcome) => void | Promise<void>;
    },
  ) {}

  /** How queued deploys start: set once the Deployer exists (it takes this queue as its port). */
  startWith(start: StartQueuedDeploy): void {
    this.start = start;
  }

  /**
   * Queues the deploy behind `heldBy`, replacing one queued before for the app in the environment
   * (returned as `replaced`). The queue is released at once after: a lock released between the
   * caller's check and this write does not leave the deploy waiting for nothing.
   */
  async enqueue(
    request: QueuedDeployRequest,
    heldBy: Lock,
  ): Promise<{ readonly queued: QueuedDeploy; readonly replaced: QueuedDeploy | null }> {
    const key = queueKey(request.app, request.env);
    const before = await this.deps.kv.get(key);
    const queued: QueuedDeploy = { ...request, queuedAt: this.deps.clock.now(), heldBy, failure: null };
    // Without a lease: a waiting deploy stays until it starts (a failure's record had one).
    await this.deps.kv.put(key, JSON.stringify(queued));
    this.release(request.env);
    const replaced = before === undefined ? null : parseQueued(before);
    return { queued, replaced: replaced?.failure === null ? replaced : null };
  }

  /** Every queued deploy (waiting, or failed to start), in key order; of one environment if named. */
  async list(env?: string): Promise<QueuedDeploy[]> {
    if (env !== undefined) assertTargetNames({ env, app: null });
    const { entries } = await this.deps.kv.range(env === undefined ? QUEUE_PREFIX : `${QUEUE_PREFIX}${env}/`);
    return entries.map(parseQueued);
  }

  /**
   * Starts, one after the other, the waiting deploys (of `env`, or all) that no lock holds now.
   * Returns at once; `settled()` resolves when this and every earlier release has run.
   */
  release(env?: string): void {
    this.releasing = this.releasing
      .then(() => this.releaseNow(env))
      .catch((error: unknown) =>
        this.deps.logger.error({ err: error, env }, 'starting the queued deploys failed'),
      );
  }

  /** Resolves once every release asked for so far has run. */
  settled(): Promise<void> {
    return this.releasing;
  }

  private async releaseNow(env: string | undefined): Promise<void> {
    const { entries } = await this.deps.kv.range(
      env === undefined || !isName(env) ? QUEUE_PREFIX : `${QUEUE_PREFIX}${env}/`,
    );
    for (const entry of entries) await this.attempt(entry);
  }

  private async attempt(entry: KvEntry): Promise<void> {
    const { kv, clock, locks, logger } = this.deps;
    const queued = parseQueued(entry);
    if (queued.failure !== null || this.start === null) return;
    if ((await locks.holding(queued.app, queued.env)) !== null) return;
    const claimed = await kv.txn({
      compare: [{ key: entry.key, modRevision: entry.modRevision }],
      success: [{ type: 'delete', key: entry.key }],
    });
    // Replaced or started by someone else meanwhile.
    if (!claimed.succeeded) return;
    const { queuedAt: _at, heldBy: _lock, failure: _failure, ...request } = queued;
    try {
      const deployment = await this.start(request, [startNote(queued, clock.now())]);
      logger.info({ app: queued.app, env: queued.env, deployment: deployment.id }, 'queued deploy started');
      await this.report({ kind: 'started', queued, deployment: deployment.id });
    } catch (error) {
      const lock = isFerryError(error, 'FERRY_E_LOCKED') ? await locks.holding(queued.app, queued.env) : null;
      if (lock !== null) {
        const back = { ...queued, heldBy: lock };
        if (await this.putBack(entry.key, back, null))
          await this.report({ kind: 'locked-again', queued: back });
        return;
      }
      logger.warn({ err: error, app: queued.app, env: queued.env }, 'a queued deploy could not start');
      const failed = { ...queued, failure: failureOf(error, clock.now()) };
      if (await this.putBack(entry.key, failed, FAILED_KEPT_MS))
        await this.report({ kind: 'failed', queued: failed });
    }
  }

  /** Writes the queued deploy back unless a newer one was queued meanwhile (that one wins). */
  private async putBack(key: string, queued: QueuedDeploy, ttlMs: number | null): Promise<boolean> {
    const { kv } = this.deps;
    const lease = ttlMs === null ? undefined : await kv.grantLease(ttlMs);
    const { succeeded } = await kv.txn({
      compare: [{ key, modRevision: 0 }],
      success: [
        {
          type: 'put',
          key,
          value: JSON.stringify(queued),
          ...(lease === undefined ? {} : { lease: lease.id }),
        },
      ],
    });
    if (!succeeded && lease !== undefined) await kv.revokeLease(lease.id);
    return succeeded;
  }

  private async report(outcome: QueueOutcome): Promise<void> {
    try {
      await this.deps.onOutcome?.(outcome);
    } catch (error) {
      this.deps.logger.error({ err: error }, 'recording what became of a queued deploy failed');
    }
  }
}

/** The first line of the deployment's event log: why it starts now and who asked when. */
function startNote(queued: QueuedDeploy, now: number): string {
  const lock = queued.heldBy;
  return (
    `queued by ${queued.actor} at ${isoSecond(queued.queuedAt)} while ${describeTarget(lock)} was locked by ` +
    `${lock.owner} (${lock.reason}); started at ${isoSecond(now)}, once no lock held ${queued.app} in ${queued.env}`
  );
}

/** A refusal as status shows it: Ferry's errors as they are, anything else without its internals. */
function failureOf(error: unknown, at: number): QueuedFailure {
  if (error instanceof FerryError) return { code: error.code, message: messageOf(error), at };
  return { code: 'FERRY_E_INTERNAL', message: 'internal error; see the daemon log', at };
}

const queuedSchema = z.object({
  app: z.string(),
  env: z.string(),
  version: z.string(),
  strategy: z.enum(['blue-green', 'canary', 'all-at-once']).nullable(),
  force: z.boolean(),
  actor: z.string(),
  queuedAt: z.number(),
  heldBy: lockSchema,
  failure: z.object({ code: z.string(), message: z.string(), at: z.number() }).nullable(),
});

function parseQueued(entry: KvEntry): QueuedDeploy {
  try {
    return queuedSchema.parse(JSON.parse(entry.value));
  } catch (error) {
    throw new FerryError(
      'FERRY_E_STORE',
      `the queued deploy at ${entry.key} is damaged: ${messageOf(error)}`,
      {
        where: entry.key,
      },
    );
  }
}
