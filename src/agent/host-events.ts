import { randomBytes } from 'node:crypto';
import type { InstalledRelease } from '../artifacts/index.js';
import type { DistributiveOmit, EventInput } from '../events/publisher.js';
import {
  MAX_EVENT_TEXT,
  MAX_REPORTED_EVENTS,
  type HostEvent,
  type HostReport,
  type RouterChangeKind,
} from '../protocol/report.js';
import type { SupervisorEvent } from '../supervisor/index.js';
import type { AppHost } from './app-host.js';
import { describeInstanceEvent } from './instance-notes.js';

type Recorded = DistributiveOmit<HostEvent, 'seq' | 'at'>;

/**
 * The agent's journal of what happened on its host between reports: its app hosts' instance and
 * health changes (it is their event sink), notes of crashes and restarts, and its router's changes. Every report carries
 * the events not acknowledged yet; a report the server took acknowledges those it carried, so an
 * event survives a report that failed (the link down) and is sent once the server is back. Bounded:
 * beyond MAX_REPORTED_EVENTS the oldest go, and the next report counts them. In memory only: a
 * new agent run starts a new journal (its id tells the server so).
 */
export class HostEventJournal {
  readonly id = randomBytes(6).toString('hex');
  private seq = 0;
  private kept: HostEvent[] = [];
  private dropped = 0;

  constructor(
    private readonly now: () => number,
    /** Told of each new event: a report carries it soon. */
    private readonly onEvent: () => void = () => undefined,
  ) {}

  /** The app hosts' sink: their instance and health changes (other kinds are not a host's). */
  publish(input: EventInput): void {
    if (input.kind === 'instance') {
      const { app, env, instance, version, state, pid, restarts, detail } = input;
      this.record({
        kind: 'instance',
        app,
        env,
        instance,
        version,
        state,
        pid,
        restarts,
        detail: cut(detail),
      });
    } else if (input.kind === 'health') {
      const { app, env, instance, version, health, detail } = input;
      this.record({ kind: 'health', app, env, instance, version, health, detail: cut(detail) });
    }
  }

  /** An install the agent made: what it read, and from where (the server's artifact metrics). */
  installed(host: AppHost, installed: InstalledRelease, cacheAsked: boolean): void {
    const { appName: app, envName: env } = host;
    const { version, readFrom, bytes } = installed;
    this.record({ kind: 'install', app, env, version, readFrom, bytes, cacheAsked });
  }

  /** A change of the host's router process tree (its watch saw it). */
  router(change: { change: RouterChangeKind; pid: number | null; message: string }): void {
    this.record({ kind: 'router', change: change.change, pid: change.pid, message: cut(change.message) });
  }

  /** A supervisor event of one of `host`'s instances: a crash, restart or crash loop becomes a note. */
  note(host: AppHost, event: SupervisorEvent): void {
    const version = host.versionOf(event.id);
    if (version === undefined) return;
    const described = describeInstanceEvent(event, version, host.lastExitOf(event.id));
    if (described === null) return;
    const { appName: app, envName: env } = host;
    this.record({ kind: 'note', app, env, message: cut(described.message), data: described.data });
  }

  /** What the next report carries. */
  pending(): NonNullable<HostReport['events']> {
    return { journal: this.id, dropped: this.dropped, items: [...this.kept] };
  }

  /** A report carrying `events` was taken by the server: they are not sent again. */
  acknowledge(events: HostReport['events']): void {
    if (events === undefined || events.journal !== this.id) return;
    const last = events.items.at(-1)?.seq ?? 0;
    this.kept = this.kept.filter((event) => event.seq > last);
    this.dropped = Math.max(0, this.dropped - events.dropped);
  }

  private record(event: Recorded): void {
    this.seq += 1;
    this.kept.push({ ...event, seq: this.seq, at: this.now() });
    if (this.kept.length > MAX_REPORTED_EVENTS) {
      this.kept.shift();
      this.dropped += 1;
    }
    this.onEvent();
  }
}

/** A text within the protocol's bound (a health probe's detail can be long). */
function cut<T extends string | null>(text: T): T {
  return (
    text !== null && text.length > MAX_EVENT_TEXT ? `${text.slice(0, MAX_EVENT_TEXT - 1)}…` : text
  ) as T;
}
