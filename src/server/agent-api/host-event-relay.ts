import type { EventSink } from '../../events/publisher.js';
import type { Logger } from '../../lib/logger.js';
import type { HostEvent, HostReport } from '../../protocol/report.js';
import type { Store } from '../../store/store.js';
import type { HostExchange } from './host-exchange.js';

export interface HostOfEvents {
  readonly name: string | null;
  /** Whether the host serves `app` in `env` by the configuration (its events of others are dropped). */
  readonly mayReport: (app: string, env: string) => boolean;
}

export interface HostEventRelayDeps {
  readonly exchange: Pick<HostExchange, 'onReport'>;
  /** The server's event publisher: instance and health changes go on the event stream. */
  readonly events: EventSink;
  /** Where a crash note goes: the event log of its app's running or last deployment. */
  readonly store: Pick<Store, 'listDeployments' | 'appendEvent'>;
  readonly logger: Logger;
  /** The server's clock: a note's time in the deployment's log (an agent's clock may be off). */
  readonly now: () => number;
  /**
   * Who a host is to its events (asynchronous for an enrolled host: read from trust): the name they
   * give it (null for the server's own host: its events name no host, as before there were
   * agents), and which apps' events it may report: those of environments that select it. An
   * agent reports only for itself; a host's credential must not write into another environment's
   * event logs.
   */
  readonly hostOf: (host: string) => HostOfEvents | Promise<HostOfEvents>;
  /** An install a host made (the artifact metrics count it). */
  readonly onInstalled?: (host: string | null, install: Extract<HostEvent, { kind: 'install' }>) => void;
}

/**
 * The server's side of the hosts' event journals (src/agent/host-events.ts): each report carries
 * the events its agent has not seen acknowledged; the ones not relayed yet (by journal and sequence:
 * a report sent again carries them again) are published in order, as the host had them: instance,
 * health and router changes on the event stream (`/v1/events`, naming the enrolled host they
 * happened on), crash notes in the event log of the app's deployment. Every host's events, the server's own
 * and the enrolled ones, come this one way.
 */
export class HostEventRelay {
  /** Per host, the journal last heard from and the last event relayed of it. */
  private readonly relayed = new Map<string, { journal: string; seq: number }>();
  /** Per host, the events being relayed: in order, one host's never overtaking each other. */
  private readonly queues = new Map<string, Promise<void>>();
  /** Notes are appended to the store one after the other (their order is the log's). */
  private notes: Promise<void> = Promise.resolve();

  constructor(private readonly deps: HostEventRelayDeps) {}

  private unsubscribe: (() => void) | null = null;

  /** Relays from every report received from now on, until stop. */
  start(): this {
    this.unsubscribe ??= this.deps.exchange.onReport(({ report }) => this.receive(report));
    return this;
  }

  stop(): void {
    this.unsubscribe?.();
    this.unsubscribe = null;
  }

  /** The new events of a report, relayed; synchronous for a host whose name is known at once. */
  receive(report: HostReport): void {
    const fresh = this.fresh(report);
    if (fresh.length === 0) return;
    const { host } = report;
    const who = this.deps.hostOf(host);
    const queued = this.queues.get(host);
    if (!(who instanceof Promise) && queued === undefined) return this.relay(host, who, fresh);
    const next = (queued ?? Promise.resolve())
      .then(() => who)
      .then((resolved) => this.relay(host, resolved, fresh))
      .catch((error: unknown) => this.deps.logger.error({ err: error, host }, 'could not relay host events'))
      .finally(() => {
        if (this.queues.get(host) === next) this.queues.delete(host);
      });
    this.queues.set(host, next);
  }

  /** The report's events not relayed yet; a new journal (the agent started again) starts afresh. */
  private fresh(report: HostReport): HostEvent[] {
    const events = report.events;
    if (events === undefined) return [];
    const known = this.relayed.get(report.host);
    const after = known?.journal === events.journal ? known.seq : 0;
    const fresh = events.items.filter((event) => event.seq > after);
    if (events.dropped > 0 && fresh.length > 0)
      this.deps.logger.warn(
        { host: report.host, dropped: events.dropped },
        'the host lost events it could not report in time (its journal is bounded)',
      );
    const last = fresh.at(-1);
    if (last !== undefined) this.relayed.set(report.host, { journal: events.journal, seq: last.seq });
    return fresh;
  }

  private relay(id: string, who: HostOfEvents, events: readonly HostEvent[]): void {
    const host = who.name;
    const onHost = host === null ? {} : { host };
    for (const event of events) {
      if (event.kind !== 'router' && !who.mayReport(event.app, event.env)) {
        this.deps.logger.warn(
          { host: id, app: event.app, env: event.env, kind: event.kind },
          'dropped an event of an app this host does not run by the configuration',
        );
        continue;
      }
      switch (event.kind) {
        case 'instance': {
          const { app, env, instance, version, state, pid, restarts, detail } = event;
          this.deps.events.publish({
            kind: 'instance',
            app,
            env,
            ...onHost,
            instance,
            version,
            state,
            pid,
            restarts,
            detail,
          });
          break;
        }
        case 'health': {
          const { app, env, instance, version, health, detail } = event;
          this.deps.events.publish({
            kind: 'health',
            app,
            env,
            ...onHost,
            instance,
            version,
            health,
            detail,
          });
          break;
        }
        case 'note':
          this.note(host, event);
          break;
        case 'install':
          this.deps.onInstalled?.(host, event);
          break;
        case 'router': {
          const { change, pid, message } = event;
          this.deps.events.publish({ kind: 'router', app: null, env: null, ...onHost, change, pid, message });
          break;
        }
      }
    }
  }

  /** A crash, restart or crash loop: logged, and in the event log of the app's deployment. */
  private note(host: string | null, event: Extract<HostEvent, { kind: 'note' }>): void {
    const { app, env } = event;
    const message = host === null ? event.message : `host ${host}: ${event.message}`;
    const data = host === null ? event.data : { ...event.data, host };
    this.deps.logger.warn({ app, env, ...data }, message);
    const { store, events } = this.deps;
    this.notes = this.notes
      .then(async () => {
        const [deployment] = await store.listDeployments({ app, env, limit: 1 });
        if (deployment === undefined) return;
        const appended = await store.appendEvent({
          deploymentId: deployment.id,
          at: this.deps.now(),
          type: 'instance',
          message,
          data,
        });
        events.publish({ kind: 'deployment-event', app, env, event: appended });
      })
      .catch((error: unknown) =>
        this.deps.logger.error({ err: error, app, env }, 'could not record an instance event'),
      );
  }
}
