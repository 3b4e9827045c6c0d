import type { FastifyReply, FastifyRequest } from 'fastify';
import { FINAL_STATUSES, type DeploymentState } from '../engine/types.js';
import { describeProgress } from '../engine/create.js';
import type { DeploymentEvent } from '../store/store.js';
import { followLog } from '../supervisor/index.js';
import type { ControlPlane } from './control-plane.js';
import type { DeploymentStreamMessage } from './types.js';

/** Opens a server-sent events response; the stream is closed when the client goes away. */
function openStream(
  request: FastifyRequest,
  reply: FastifyReply,
): { send: (data: unknown, id?: number) => void; end: () => void; closed: AbortSignal } {
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
      if (!abort.signal.aborted)
        res.write(`${id !== undefined ? `id: ${id}\n` : ''}data: ${JSON.stringify(data)}\n\n`);
    },
    end,
    closed: abort.signal,
  };
}

/** Streams a deployment's events (past ones first) and states until it is final. */
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
    stream.send({ kind: 'event', event } satisfies DeploymentStreamMessage, event.seq);
  };
  const sendState = (state: DeploymentState) => {
    if (state.id !== id) return;
    stream.send({
      kind: 'state',
      deployment: { ...state, progress: describeProgress(state) },
    } satisfies DeploymentStreamMessage);
    if (FINAL_STATUSES.has(state.status)) setImmediate(stream.end);
  };
  // Subscribe first, then replay: nothing falls in between (duplicates are dropped by seq).
  control.bus.on('event', sendEvent);
  control.bus.on('deployment', sendState);
  stream.closed.addEventListener('abort', () => {
    control.bus.off('event', sendEvent);
    control.bus.off('deployment', sendState);
  });
  for (const event of await control.events(id, lastSeq)) sendEvent(event);
  sendState(await control.deployment(id));
}

/** Streams new log lines of an app's instances (`ferry logs -f`), after the last `lines` lines. */
export async function streamLogs(
  control: ControlPlane,
  app: string,
  env: string | undefined,
  lines: number,
  request: FastifyRequest,
  reply: FastifyReply,
): Promise<void> {
  const recent = await control.logs(app, env, lines);
  const files = await control.logFiles(app, env);
  const stream = openStream(request, reply);
  for (const line of recent.lines) stream.send(line);
  for (const { instance, version, file } of files) {
    void followLog(
      file,
      (newLines: string[]) => {
        for (const line of newLines) stream.send({ instance, version, line });
      },
      stream.closed,
    );
  }
}
