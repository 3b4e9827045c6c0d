import type { FastifyReply, FastifyRequest } from 'fastify';
import { matchesFilter, type EventFilter } from '../events/publisher.js';
import type { ControlPlane } from './control-plane.js';
import {
  FINAL_DEPLOYMENT_STATUSES,
  type Deployment,
  type DeploymentEvent,
  type DeploymentStreamMessage,
  type EventStreamMessage,
  type FerryEvent,
  type LogLine,
} from './types.js';

/**
 * A client reading slower than events come is cut off past this much unsent data rather than
 * held in memory: it reconnects with Last-Event-ID and resumes (or is told what it lost).
 */
const MAX_UNSENT_BYTES = 8 * 1024 * 1024;

/** Opens a server-sent events response; the stream is closed when the client goes away. */
function openStream(
  request: FastifyRequest,
  reply: FastifyReply,
): { send: (data: unknown, id?: string) => void; end: () => void; closed: AbortSignal } {
  const abort = new AbortController();
  reply.hijack();
  const res = reply.raw;
  res.writeHead(200, {
    'content-type': 'text/event-stream',
    'cache-control': 'no-cache',
    connection: 'keep-alive',
  });
  res.write(': stream open\n\n');
  const heartbeat = setInterval(() => res.write(': keep-alive\n\n'), 15_000);
  const end = () => {
    clearInterval(heartbeat);
    if (!abort.signal.aborted) abort.abort();
    res.end();
  };
  request.raw.on('close', end);
  return {
    send: (data, id) => {
      if (abort.signal.aborted) return;
      res.write(`${id !== undefined ? `id: ${id}\n` : ''}data: ${JSON.stringify(data)}\n\n`);
      if (res.writableLength <= MAX_UNSENT_BYTES) return;
      end();
      res.destroy();
    },
    end,
    closed: abort.signal,
  };
}

/**
 * Streams a deployment's events (past ones first, from the store: `id:` is the event's seq, so
 * Last-Event-ID resumes) and its states, until it is final. Live ones come from the daemon's event
 * publisher, the one the global stream reads too.
 */
export async function streamDeployment(
  control: ControlPlane,
  id: string,
  request: FastifyRequest,
  reply: FastifyReply,
): Promise<void> {
  const stream = openStream(request, reply);
  let lastSeq = Number(request.headers['last-event-id'] ?? 0) || 0;
  const sendEvent = (event: DeploymentEvent) => {
    if (event.deploymentId !== id || event.seq <= lastSeq) return;
    lastSeq = event.seq;
    stream.send({ kind: 'event', event } satisfies DeploymentStreamMessage, String(event.seq));
  };
  const sendState = (deployment: Deployment) => {
    if (deployment.id !== id) return;
    stream.send({ kind: 'state', deployment } satisfies DeploymentStreamMessage);
    if (FINAL_DEPLOYMENT_STATUSES.includes(deployment.status)) setImmediate(stream.end);
  };
  // Subscribe first, then replay: nothing falls in between (duplicates are dropped by seq).
  const unsubscribe = control.events.subscribe((event) => {
    if (event.kind === 'deployment-event') sendEvent(event.event);
    else if (event.kind === 'deployment') sendState(event.deployment);
  });
  stream.closed.addEventListener('abort', unsubscribe);
  for (const event of await control.deploymentEvents(id, lastSeq)) sendEvent(event);
  sendState(await control.deployment(id));
}

/**
 * The global stream: every event the daemon publishes from now on that matches the filter; after a
 * Last-Event-ID, first the kept events after it, and a gap event when some are no longer kept.
 */
export function streamEvents(
  control: ControlPlane,
  filter: EventFilter,
  request: FastifyRequest,
  reply: FastifyReply,
): void {
  const lastEventId = request.headers['last-event-id'];
  const stream = openStream(request, reply);
  const send = (event: FerryEvent) => {
    if (matchesFilter(event, filter)) stream.send(event satisfies EventStreamMessage, event.id);
  };
  // Replay and subscribe in one turn: the publisher hands out events synchronously, so none is missed.
  if (typeof lastEventId === 'string' && lastEventId !== '') {
    const { gap, events } = control.events.replay(lastEventId);
    if (gap !== null) stream.send(gap satisfies EventStreamMessage);
    for (const event of events) send(event);
  }
  const unsubscribe = control.events.subscribe(send);
  stream.closed.addEventListener('abort', unsubscribe);
}

/**
 * Streams an app's instance logs (`ferry logs -f`): the last `lines` lines of each instance, then
 * every new line, of the instances started afterwards too (a deployment's new release), from
 * their first line, as the hosts' agents answer them (the control's followLogs). The follow ends
 * when the client goes away.
 */
export async function streamLogs(
  control: ControlPlane,
  app: string,
  env: string | undefined,
  lines: number,
  request: FastifyRequest,
  reply: FastifyReply,
): Promise<void> {
  const stop = new AbortController();
  // A client gone while the follow starts ends it too (the stream's own end comes after).
  request.raw.once('close', () => stop.abort());
  let stream: ReturnType<typeof openStream> | null = null;
  const early: LogLine[] = [];
  // Whether the logs can be followed is known before the stream opens (an error then is a plain
  // answer, not a stream that never says anything); lines that come before it opens wait for it.
  await control.followLogs(app, env, lines, {
    signal: stop.signal,
    send: (line) => (stream === null ? early.push(line) : stream.send(line)),
  });
  stream = openStream(request, reply);
  stream.closed.addEventListener('abort', () => stop.abort());
  for (const line of early.splice(0)) stream.send(line);
}
