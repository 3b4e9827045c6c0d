import { randomBytes } from 'node:crypto';
import type { EventGap, FerryEvent } from '../api/types.js';

/** Omit over each member of a union (a discriminated union keeps its kinds). */
export type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

/** An event as its source publishes it: the publisher gives it its id, order and time. */
export type EventInput = DistributiveOmit<FerryEvent, 'id' | 'seq' | 'at'>;

/** Where a part publishes its events (the daemon's publisher, or an agent's journal). */
export interface EventSink {
  publish(input: EventInput): unknown;
}

/** What a stream asks for: one app, one environment, or both. */
export interface EventFilter {
  readonly app?: string;
  readonly env?: string;
}

/** What a stream resuming after an id gets: the kept events after it, and a gap if some are lost. */
export interface Replay {
  readonly gap: EventGap | null;
  readonly events: readonly FerryEvent[];
}

export const DEFAULT_EVENT_BUFFER = 1000;

/**
 * The daemon's one event publisher: every deployment state and event, instance and health change,
 * router restart and config apply goes through it, numbered in order. Subscribers get each event as
 * it is published (synchronously, so subscribing and replaying in one turn misses nothing); the last
 * `capacity` events are kept for streams resuming with Last-Event-ID.
 *
 * Ids are `<run>-<seq>`: `run` is new at every daemon start, so an id from before a restart is
 * recognised as such, and said so, rather than taken for an id of this run.
 */
export class EventPublisher {
  readonly run: string;
  private seq = 0;
  private readonly kept: FerryEvent[] = [];
  private readonly listeners = new Set<(event: FerryEvent) => void>();
  private readonly capacity: number;
  private readonly now: () => number;

  constructor(opts: { now: () => number; capacity?: number; run?: string }) {
    this.now = opts.now;
    this.capacity = opts.capacity ?? DEFAULT_EVENT_BUFFER;
    this.run = opts.run ?? randomBytes(4).toString('hex');
  }

  /** Numbers the event, keeps it and hands it to every subscriber; returns it as published. */
  publish(input: EventInput): FerryEvent {
    this.seq += 1;
    const event = { ...input, id: `${this.run}-${this.seq}`, seq: this.seq, at: this.now() } as FerryEvent;
    this.kept.push(event);
    if (this.kept.length > this.capacity) this.kept.shift();
    for (const listener of [...this.listeners]) {
      try {
        listener(event);
      } catch (error) {
        // One subscriber's bug must not keep the event from the others: surface it afterwards.
        queueMicrotask(() => {
          throw error;
        });
      }
    }
    return event;
  }

  /** Calls `listener` with every event published from now on; returns the unsubscribe. */
  subscribe(listener: (event: FerryEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /**
   * The kept events after `lastEventId`. When some events after it are no longer kept (the buffer
   * moved on, the daemon restarted) or the id is not one this publisher gave, `gap` says so and
   * every kept event follows.
   */
  replay(lastEventId: string): Replay {
    const oldest = this.kept[0];
    const gap = (reason: EventGap['reason'], message: string): Replay => ({
      gap: { kind: 'gap', lastEventId, reason, oldest: oldest?.id ?? null, message },
      events: [...this.kept],
    });
    const match = /^([0-9a-z]+)-(\d+)$/.exec(lastEventId);
    if (match === null)
      return gap('unknown', `"${lastEventId}" is not an event id of this daemon; the kept events follow`);
    const [, run, seqText] = match;
    if (run !== this.run)
      return gap(
        'restarted',
        `the daemon restarted since event ${lastEventId}: what happened in between is not kept (GET /v1/status has the state now); the events since its start follow`,
      );
    const seq = Number(seqText);
    if (seq > this.seq)
      return gap('unknown', `event ${lastEventId} was never published (the last is ${this.run}-${this.seq})`);
    const firstKept = oldest?.seq ?? this.seq + 1;
    if (seq < firstKept - 1)
      return gap(
        'expired',
        `events ${this.run}-${seq + 1} to ${this.run}-${firstKept - 1} are no longer kept (the daemon keeps the last ${this.capacity}); GET /v1/status has the state now; the kept events follow`,
      );
    return { gap: null, events: this.kept.filter((event) => event.seq > seq) };
  }
}

/**
 * Whether the event concerns the filter's app and environment; host-wide events pass every filter,
 * and an environment's (its lock) every filter of that environment or of none.
 */
export function matchesFilter(event: FerryEvent, filter: EventFilter): boolean {
  if (event.app === null) return event.env === null || filter.env === undefined || event.env === filter.env;
  if (filter.app !== undefined && event.app !== filter.app) return false;
  if (filter.env !== undefined && event.env !== filter.env) return false;
  return true;
}
