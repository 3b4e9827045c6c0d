import type { Clock, TimerHandle } from '../../lib/clock.js';
import type { Logger } from '../../lib/logger.js';
import type { KvEvent, KvStore, KvWatch } from '../../store/kv/kv.js';
import type { DeployQueue } from './deploy-queue.js';
import { LOCKS_PREFIX, parseLock, targetOfKey, type Lock, type LockTarget } from './lock.js';
import type { Locks } from './locks.js';

/** A lock taken (or renewed), released, or ended by its expiry. */
export type LockChange =
  | { readonly kind: 'locked'; readonly lock: Lock }
  | { readonly kind: 'unlocked' | 'expired'; readonly target: LockTarget };

/**
 * Keeps the locks honest while the server runs: it watches /locks/ and releases the deploy queue
 * of an environment whenever one of its locks goes (released or expired), and at each lock's
 * expiry it ends the lock's lease itself, so a lease that outlived its lock (renewed when the store
 * reopened) holds nothing past the expiry the lock named. On start it releases the whole queue once:
 * locks may have gone while no server watched.
 */
export class LockKeeper {
  private state: 'stopped' | 'running' = 'stopped';
  private watch: KvWatch | null = null;
  private timer: TimerHandle | null = null;
  private sweeping: Promise<void> = Promise.resolve();

  constructor(
    private readonly deps: {
      readonly kv: KvStore;
      readonly clock: Clock;
      readonly locks: Locks;
      readonly queue: DeployQueue;
      readonly logger: Logger;
      /** Told each change of a lock as the store reports it. */
      readonly onChange?: (change: LockChange) => void;
    },
  ) {}

  async start(): Promise<void> {
    if (this.state === 'running') return;
    this.state = 'running';
    this.watchFrom((await this.deps.kv.range(LOCKS_PREFIX)).revision);
    this.sweep();
    this.deps.queue.release();
    await this.sweeping;
  }

  /** Stops watching and sweeping; a queue release under way finishes on its own. */
  stop(): void {
    this.state = 'stopped';
    this.watch?.cancel();
    this.watch = null;
    if (this.timer !== null) this.deps.clock.clearTimeout(this.timer);
    this.timer = null;
  }

  private watchFrom(revision: number): void {
    this.watch = this.deps.kv.watch(
      LOCKS_PREFIX,
      revision,
      (events) => this.onEvents(events),
      (error) => {
        if (this.state !== 'running') return;
        // The history it needed was compacted: read again, and release in case a lock went meanwhile.
        this.deps.logger.warn({ err: error }, 'the watch of the locks ended; watching again');
        void this.deps.kv
          .range(LOCKS_PREFIX)
          .then(({ revision: now }) => {
            if (this.state !== 'running') return;
            this.watchFrom(now);
            this.sweep();
            this.deps.queue.release();
          })
          .catch((again: unknown) => this.deps.logger.error({ err: again }, 'cannot watch the locks'));
      },
    );
  }

  private onEvents(events: readonly KvEvent[]): void {
    for (const event of events) {
      const target = targetOfKey(event.key);
      if (target === undefined) continue;
      if (event.type === 'delete') {
        this.deps.onChange?.({ kind: event.expired === true ? 'expired' : 'unlocked', target });
        this.deps.queue.release(target.env);
      } else {
        try {
          this.deps.onChange?.({
            kind: 'locked',
            lock: parseLock({ key: event.key, value: event.value ?? '' }),
          });
        } catch (error) {
          this.deps.logger.error({ err: error, key: event.key }, 'a lock in the store is damaged');
        }
      }
    }
    this.sweep();
  }

  /** Ends overdue locks' leases and arms the timer for the next expiry, one sweep at a time. */
  private sweep(): void {
    this.sweeping = this.sweeping
      .then(async () => {
        if (this.state !== 'running') return;
        const next = await this.deps.locks.expireOverdue();
        if (this.timer !== null) this.deps.clock.clearTimeout(this.timer);
        this.timer = null;
        if (next === null || this.state !== 'running') return;
        this.timer = this.deps.clock.setTimeout(
          () => {
            this.timer = null;
            this.sweep();
          },
          Math.max(0, next - this.deps.clock.now()),
        );
      })
      .catch((error: unknown) => this.deps.logger.error({ err: error }, 'ending expired locks failed'));
  }
}
