import { setTimeout as delay } from 'node:timers/promises';
import { messageOf } from '../../errors/ferry-error.js';
import { siblingEntry } from '../../lib/entry.js';
import { createLogger, type Logger } from '../../lib/logger.js';
import { controlRequest } from '../control-request.js';
import { isMessage, type KeeperMessage, type WorkerMessage } from '../ipc.js';
import type { SocketHandle } from '../keeper/listen-socket.js';
import { Router } from './router.js';
import { routerFiles } from '../state-dir.js';
import { describeFailure, handOver } from '../successor.js';

/** A worker of rank r waits r times this before rescuing the sockets, so rank 0 goes first. */
const RESCUE_DELAY_PER_RANK_MS = 2_000;

/**
 * A router worker: started by the keeper with an IPC channel, it accepts on the listening sockets
 * the keeper hands it and proxies requests. If the keeper dies, the worker keeps serving and hands
 * its sockets to a new keeper it starts itself (rank 0 first), then drains and exits.
 */
const logger = createLogger();
let rank = -1;
let stateDir: string | undefined;
let drainMs = 10_000;
let epoch = '';
let workers = 1;
let router = new Router({ logger, drainMs });
let leaving = false;

process.on('message', (message: unknown, handle: SocketHandle | undefined) => {
  if (!isMessage<KeeperMessage>(message)) return;
  void onMessage(message, handle).catch((error: unknown) =>
    logger.error({ err: messageOf(error), message: message.type }, 'router worker: message failed'),
  );
});
process.on('disconnect', () => void rescue().catch((error: unknown) => exitAfterDrain(error)));
// `ferry down` and a keeper being stopped: finish what is in flight, do not rescue anything.
for (const name of ['SIGTERM', 'SIGINT'] as const) {
  process.once(name, () => {
    leaving = true;
    void exitAfterDrain();
  });
}
keepRunningThroughBugs(logger);
send({ type: 'ready' });

async function onMessage(message: KeeperMessage, handle: SocketHandle | undefined): Promise<void> {
  switch (message.type) {
    case 'hello':
      rank = message.rank;
      stateDir = message.stateDir;
      epoch = message.epoch;
      workers = message.workers;
      drainMs = message.drainMs;
      router = new Router({ logger, drainMs, standby: message.standby, workers });
      return;
    case 'activate':
      rank = message.rank;
      workers = message.workers;
      try {
        await router.activate();
        send({ type: 'ack', seq: message.seq });
      } catch (error) {
        send({ type: 'ack', seq: message.seq, error: describeFailure(error) });
      }
      return;
    case 'route': {
      try {
        const held = router.socketOf(message.spec.name);
        // A handle for a socket this worker already accepts on is a duplicate: an unused copy would
        // keep the socket open after the route is gone.
        if (handle !== undefined && held === message.socket) handle.close();
        await router.serve(message.spec, message.socket, held === message.socket ? undefined : handle);
        send({ type: 'ack', seq: message.seq });
      } catch (error) {
        send({ type: 'ack', seq: message.seq, error: describeFailure(error) });
      }
      return;
    }
    case 'remove-route':
      router.remove(message.name);
      send({ type: 'ack', seq: message.seq });
      return;
    case 'stats':
      send({ type: 'stats', seq: message.seq, routes: router.stats() });
      return;
    case 'drain':
      leaving = true;
      drainMs = message.drainMs;
      return exitAfterDrain();
  }
}

/**
 * The keeper is gone: this worker holds the listening sockets (and keeps serving on them). Unless a
 * keeper already answers (another worker's, or one the daemon started), it starts a successor and
 * hands it the sockets, the table and its counters.
 */
async function rescue(): Promise<void> {
  // A spare accepts on nothing: it has nothing to rescue that a serving worker does not have.
  if (leaving || stateDir === undefined || rank < 0) return exitAfterDrain();
  leaving = true;
  logger.warn({ rank }, 'the router keeper is gone; this worker keeps serving and rescues the sockets');
  await delay(Math.max(0, rank) * RESCUE_DELAY_PER_RANK_MS);
  if (await keeperAnswers(stateDir)) {
    logger.info({ rank }, 'another keeper took over; draining');
    return exitAfterDrain();
  }
  const sockets = router.sockets();
  const pid = await handOver({
    stateDir,
    entry: siblingEntry(import.meta.url, '../keeper/main'),
    workers,
    drainMs,
    routes: sockets.map((s) => s.spec),
    sockets: new Map(sockets.map((s) => [s.spec.name, s.handle])),
    counters: router.stats(),
    epoch,
    from: 'worker',
    // A worker holds no lock: the dead keeper's went with it.
    release: () => Promise.resolve(),
  });
  logger.info({ rank, keeper: pid }, 'handed the sockets to a new keeper; draining');
  return exitAfterDrain();
}

async function keeperAnswers(dir: string): Promise<boolean> {
  try {
    const response = await controlRequest(routerFiles(dir).socket, 'GET', '/healthz', undefined, 2000);
    return response.status === 200;
  } catch {
    return false;
  }
}

let exiting: Promise<void> | undefined;

/** Finishes the requests in flight (at most drainMs) and exits; asked twice, it still drains once. */
function exitAfterDrain(error?: unknown): Promise<void> {
  if (error !== undefined) logger.error({ err: messageOf(error) }, 'router worker: rescue failed; draining');
  exiting ??= router.drain(drainMs).then(() => process.exit(0));
  return exiting;
}

function send(message: WorkerMessage): void {
  if (process.connected) process.send?.(message);
}

/**
 * Every socket error is handled where it happens; this is the last net. A worker that exits on an
 * unforeseen error drops the requests in flight on it; one that logs and goes on drops none.
 */
function keepRunningThroughBugs(log: Logger): void {
  process.on('uncaughtException', (error) =>
    log.error({ err: messageOf(error), stack: error.stack }, 'uncaught exception'),
  );
  process.on('unhandledRejection', (reason) => log.error({ err: messageOf(reason) }, 'unhandled rejection'));
}
