import type { FastifyReply, FastifyRequest } from 'fastify';
import { matchesFilter, type EventFilter } from '../events/publisher.js';
import { followLog } from '../supervisor/index.js';
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
 * A follow stream reads at most this many instances' logs at once (an app's instances during a
 * deployment are at most twice its count): beyond, new instances are skipped and it says so.
 */
const MAX_FOLLOWED_LOGS = 64;

/**
 * Streams new log lines of an app's instances (`ferry logs -f`), after the last `lines` lines:
 * those of the instances running when it opens, and of every instance of the app and environment
 * started afterwards (a deployment's new release), from its first line. An instance that stops is
 * read to its end and then let go, so the stream follows only what runs.
 */
export async function streamLogs(
  control: ControlPlane,
  app: string,
  env: string | undefined,
  lines: number,
  request: FastifyRequest,
  reply: FastifyReply,
): Promise<void> {
  // Whether the logs can be followed here is known before the stream opens (an error then is a
  // plain answer, not a stream that never says anything).
  await control.logFiles(app, env);
  const recent = await control.logs(app, env, lines);
  const stream = openStream(request, reply);
  const followed = new Map<string, AbortController>();
  const follow = (instance: string, version: string, file: string, from: 'start' | 'end') => {
    if (followed.has(instance)) return;
    if (followed.size >= MAX_FOLLOWED_LOGS) {
      const line = `[ferry] not following ${instance}: already following ${MAX_FOLLOWED_LOGS} instances`;
      stream.send({ instance, version, line, at: Date.now() } satisfies LogLine);
      return;
    }
    const finish = new AbortController();
    followed.set(instance, finish);
    void followLog(
      file,
      (newLines: string[]) => {
        const at = Date.now();
        for (const line of newLines) stream.send({ instance, version, line, at } satisfies LogLine);
      },
      stream.closed,
      { from, finish: finish.signal },
    ).finally(() => followed.delete(instance));
  };
  // Subscribed before the instances are listed: one starting in between is not missed.
  const unsubscribe = control.events.subscribe((event) => {
    if (event.kind !== 'instance' || event.app !== app) return;
    if (event.state === 'stopped') followed.get(event.instance)?.abort();
    if (event.state !== 'started' || followed.has(event.instance)) return;
    // The app's instances in the stream's environment: one of another environment is not there.
    void control.logFiles(app, env).then(
      (files) => {
        const started = files.find((f) => f.instance === event.instance);
        if (started && !stream.closed.aborted)
          follow(started.instance, started.version, started.file, 'start');
      },
      () => undefined,
    );
  });
  stream.closed.addEventListener('abort', unsubscribe);
  for (const line of recent.lines) stream.send(line);
  for (const { instance, version, file } of await control.logFiles(app, env))
    follow(instance, version, file, 'end');
}
