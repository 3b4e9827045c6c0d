import type { AppHost } from '../agent/app-host.js';
import type { EventSink } from '../events/publisher.js';
import { formatDuration } from '../lib/duration.js';
import { exitReason } from '../lib/exit-reason.js';
import type { Logger } from '../lib/logger.js';
import type { Store } from '../store/store.js';
import type { SupervisorEvent } from '../supervisor/index.js';

/**
 * What an instance's crash, restart or crash loop says in its app's event stream, or null for a
 * supervisor event that is not one of those (a start, a stop asked for).
 */
export function describeInstanceEvent(
  event: SupervisorEvent,
  version: string,
  lastExit: { code: number | null; signal: string | null } | null,
): { message: string; data: Record<string, unknown> } | null {
  const who = `instance ${event.id} of ${version}`;
  switch (event.type) {
    case 'restarting': {
      const how = lastExit === null ? 'exited' : `exited with ${exitReason(lastExit)}`;
      return {
        message: `${who} ${how}; restart ${event.restarts} in ${formatDuration(event.inMs)}`,
        data: { instance: event.id, version, ...lastExit, restarts: event.restarts, inMs: event.inMs },
      };
    }
    case 'crash-loop':
      return {
        message: `${who} keeps crashing (${event.restarts} restarts): crash loop, restarted with backoff`,
        data: { instance: event.id, version, restarts: event.restarts },
      };
    case 'started':
      if (event.restarts === 0) return null;
      return {
        message: `${who} restarted (pid ${event.pid}, restart ${event.restarts})`,
        data: { instance: event.id, version, pid: event.pid, restarts: event.restarts },
      };
    default:
      return null;
  }
}

/**
 * Records instance crashes, restarts and crash loops as events of their app: in the event log of
 * the app's running or last deployment (the app's event stream), published like every deployment
 * event (the deployment's stream and /v1/events).
 */
export function recordInstanceEvents(deps: {
  readonly store: Store;
  readonly events: EventSink;
  readonly logger: Logger;
  readonly now: () => number;
}): (host: AppHost, event: SupervisorEvent) => void {
  return (host, event) => {
    const version = host.versionOf(event.id);
    if (version === undefined) return;
    const described = describeInstanceEvent(event, version, host.lastExitOf(event.id));
    if (described === null) return;
    const { appName: app, envName: env } = host;
    deps.logger.warn({ app, env, ...described.data }, described.message);
    void (async () => {
      const [deployment] = await deps.store.listDeployments({ app, env, limit: 1 });
      if (deployment === undefined) return;
      const appended = await deps.store.appendEvent({
        deploymentId: deployment.id,
        at: deps.now(),
        type: 'instance',
        message: described.message,
        data: described.data,
      });
      deps.events.publish({ kind: 'deployment-event', app, env, event: appended });
    })().catch((error: unknown) =>
      deps.logger.error({ err: error, app, env }, 'could not record an instance event'),
    );
  };
}
