import { z } from 'zod';
import { messageOf } from '../../errors/ferry-error.js';
import type { Clock, TimerHandle } from '../../lib/clock.js';
import type { Logger } from '../../lib/logger.js';
import type { KvEntry, KvStore, LeaseId } from '../../store/kv/kv.js';

/**
 * "At most K hosts restart at once": K slots per app and environment, each a key of the control
 * plane's store on a lease, taken by compare-and-swap on its absence. The holder renews the lease
 * while its host restarts and revokes it when the host is done; a server that dies mid-restart
 * stops renewing, the lease expires and the slot frees itself: a slot is never held for ever.
 * Every server (and every restart) takes slots through the store, so K holds across them all.
 */
export const RESTART_SLOTS_PREFIX = '/restart-slots/';

/** What a slot's key holds: who restarts, why, since when. */
export const restartSlotSchema = z.object({
  owner: z.string(),
  reason: z.string(),
  since: z.number(),
});
export type RestartSlotValue = z.infer<typeof restartSlotSchema>;

/** A slot taken: released once (revoking its lease deletes its key). */
export interface HeldSlot {
  readonly key: string;
  readonly slot: number;
  readonly lease: LeaseId;
  release(): Promise<void>;
}

/** `/restart-slots/<app>/<env>/<slot>`: app and environment names have no `/`. */
export function restartSlotKey(app: string, env: string, slot: number): string {
  return `${RESTART_SLOTS_PREFIX}${app}/${env}/${slot}`;
}

export class RestartSlots {
  constructor(
    private readonly deps: {
      readonly kv: KvStore;
      readonly clock: Clock;
      readonly logger: Logger;
    },
  ) {}

  /**
   * Takes a free slot among `slots` for `owner` (a host id), or null when all are held. The slot's
   * lease lasts `ttlMs` and is renewed every third of it until released; a renewal that finds the
   * lease gone (the store lost it) is logged: the slot is then free for another taker.
   */
  async take(
    app: string,
    env: string,
    slots: number,
    holder: { readonly owner: string; readonly reason: string; readonly ttlMs: number },
  ): Promise<HeldSlot | null> {
    const { kv, clock } = this.deps;
    const held = new Set((await this.list(app, env)).map((s) => s.slot));
    for (let slot = 0; slot < slots; slot++) {
      if (held.has(slot)) continue;
      const key = restartSlotKey(app, env, slot);
      const lease = await kv.grantLease(holder.ttlMs);
      const value: RestartSlotValue = { owner: holder.owner, reason: holder.reason, since: clock.now() };
      const written = await kv
        .txn({
          compare: [{ key, modRevision: 0 }],
          success: [{ type: 'put', key, value: JSON.stringify(value), lease: lease.id }],
        })
        .catch(async (error: unknown) => {
          await kv.revokeLease(lease.id).catch(() => undefined);
          throw error;
        });
      if (written.succeeded) return this.held(key, slot, lease.id, holder.ttlMs);
      // Another taker won this slot between the read and the write: try the next one.
      await kv.revokeLease(lease.id);
    }
    return null;
  }

  /** The slots held now, by slot number. */
  async list(app: string, env: string): Promise<Array<RestartSlotValue & { slot: number }>> {
    const prefix = `${RESTART_SLOTS_PREFIX}${app}/${env}/`;
    const { entries } = await this.deps.kv.range(prefix);
    return entries.flatMap((entry) => {
      const slot = Number(entry.key.slice(prefix.length));
      const value = parseSlot(entry);
      return Number.isSafeInteger(slot) && value !== null ? [{ ...value, slot }] : [];
    });
  }

  private held(key: string, slot: number, lease: LeaseId, ttlMs: number): HeldSlot {
    const { kv, clock, logger } = this.deps;
    let timer: TimerHandle | null = clock.setInterval(
      () => {
        kv.keepAlive(lease).then(
          (alive) => {
            if (!alive) logger.warn({ key }, 'a restart slot expired while its host restarted');
          },
          (error: unknown) =>
            logger.warn({ key, err: messageOf(error) }, 'a restart slot could not be renewed'),
        );
      },
      Math.max(1, Math.floor(ttlMs / 3)),
    );
    return {
      key,
      slot,
      lease,
      release: async () => {
        if (timer === null) return;
        clock.clearInterval(timer);
        timer = null;
        await kv.revokeLease(lease);
      },
    };
  }
}

function parseSlot(entry: KvEntry): RestartSlotValue | null {
  try {
    return restartSlotSchema.parse(JSON.parse(entry.value));
  } catch {
    return null;
  }
}
