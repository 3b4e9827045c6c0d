import { mkdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import type { Server } from 'node:http';
import { parseArgs } from 'node:util';
import { messageOf } from '../../errors/ferry-error.js';
import { siblingEntry } from '../../lib/entry.js';
import { createLogger, type Logger } from '../../lib/logger.js';
import { ProcessLock } from '../../lib/process-lock.js';
import { FERRY_VERSION } from '../../lib/version.js';
import { createControlServer } from './control-server.js';
import { isMessage, type PredecessorMessage, type SuccessorMessage } from '../ipc.js';
import { Keeper, newEpoch } from './keeper.js';
import type { SocketHandle } from './listen-socket.js';
import { describeFailure } from '../successor.js';
import { isRouterProcess, readPidFile, routerFiles } from '../state-dir.js';

const DEFAULT_DRAIN_MS = 10_000;
/** A successor's workers must accept on every socket within this. */
const SERVING_DEADLINE_MS = 20_000;
/** How long a successor waits for its predecessor to let go of the lock. */
const LOCK_DEADLINE_MS = 10_000;
/** A fresh keeper answers its control API once a worker serves, or after this at the latest. */
const FIRST_WORKER_WAIT_MS = 10_000;

/**
 * The router's keeper: `node main.js --state-dir DIR [--workers N] [--drain-ms MS] [--successor]`.
 * Spawned detached by RouterClient (or, with --successor and an IPC channel, by a router process
 * handing over its sockets), it outlives the daemon, holds the listening sockets, runs the
 * workers, and takes changes on DIR/router.sock.
 */
async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      'state-dir': { type: 'string' },
      'drain-ms': { type: 'string' },
      workers: { type: 'string' },
      successor: { type: 'boolean' },
    },
  });
  const stateDir = values['state-dir'];
  const drainMs = values['drain-ms'] === undefined ? DEFAULT_DRAIN_MS : Number(values['drain-ms']);
  const workers = values.workers === undefined ? 1 : Number(values.workers);
  if (
    stateDir === undefined ||
    !(Number.isInteger(drainMs) && drainMs >= 0) ||
    !(Number.isInteger(workers) && workers >= 1 && workers <= 16)
  ) {
    process.stderr.write('usage: router --state-dir DIR [--workers 1-16] [--drain-ms MS] [--successor]\n');
    return 2;
  }
  const logger = createLogger();
  mkdirSync(stateDir, { recursive: true, mode: 0o700 });
  keepRunningThroughBugs(logger);
  const common = {
    stateDir,
    logger,
    drainMs,
    workers,
    workerEntry: siblingEntry(import.meta.url, '../worker/main'),
    version: FERRY_VERSION,
  };
  const started = values.successor ? await takeOver(common) : await startFresh(common);
  if (started === undefined) return 1;
  const { keeper, lock, control, socketInode } = started;
  logger.info({ stateDir, version: FERRY_VERSION, workers }, 'router keeper started');

  const signal = await new Promise<string>((resolve) => {
    process.once('SIGTERM', () => resolve('SIGTERM'));
    process.once('SIGINT', () => resolve('SIGINT'));
    handingOver = (pid) => resolve(`handover to ${pid}`);
  });
  logger.info({ reason: signal }, 'router keeper stopping: workers finish the requests in flight');
  control.close();
  await keeper.shutdown();
  await lock.release();
  if (ownsSocketFile(routerFiles(stateDir).socket, socketInode))
    rmSync(routerFiles(stateDir).socket, { force: true });
  if (readPidFile(routerFiles(stateDir).pid) === process.pid)
    rmSync(routerFiles(stateDir).pid, { force: true });
  logger.info({}, 'router keeper stopped');
  return 0;
}

/** Set once a successor took over: ends this keeper's life the way a signal would. */
let handingOver: ((pid: number) => void) | undefined;

interface Common {
  stateDir: string;
  logger: Logger;
  drainMs: number;
  workers: number;
  workerEntry: URL;
  version: string;
}

interface Started {
  keeper: Keeper;
  lock: ProcessLock;
  control: Server;
  socketInode: number;
}

/** A keeper started by the daemon: takes the lock, serves the saved table, starts its workers. */
async function startFresh(common: Common): Promise<Started | undefined> {
  const { stateDir, logger } = common;
  const files = routerFiles(stateDir);
  const attempt = await ProcessLock.acquire('router', stateDir, holderInfo);
  if (!attempt.acquired) {
    logger.error({ stateDir, holder: attempt.holder }, 'another router keeper owns this state directory');
    return undefined;
  }
  // A router from before the keeper held no lock: its pid file is the only sign of it.
  const legacy = readPidFile(files.pid);
  if (legacy !== undefined && legacy !== process.pid && isRouterProcess(legacy)) {
    logger.error(
      { stateDir, pid: legacy },
      'an older router (without a keeper) still runs here; stop it first',
    );
    await attempt.lock.release();
    return undefined;
  }
  writePidFile(files.pid);
  const keeper = new Keeper({ ...common, epoch: newEpoch() });
  await keeper.restore();
  keeper.startWorkers();
  await keeper.whenServing(FIRST_WORKER_WAIT_MS);
  const { control, inode } = await listenControl(keeper, attempt.lock, logger, files.socket);
  return { keeper, lock: attempt.lock, control, socketInode: inode };
}

/**
 * A successor: its predecessor (a keeper being replaced, or a worker whose keeper died) sends the
 * table, the counters and the listening sockets over IPC. Once its workers accept on them, it asks
 * the predecessor to let go, takes the lock and the control socket, and cuts the IPC channel.
 */
async function takeOver(common: Common): Promise<Started | undefined> {
  const { stateDir, logger } = common;
  const files = routerFiles(stateDir);
  const inbox = predecessorInbox();
  try {
    const adopt = await inbox.next('adopt');
    const sockets = new Map<string, SocketHandle>();
    for (;;) {
      const message = await inbox.nextOf(['socket', 'sockets-done']);
      if (message.type === 'sockets-done') break;
      if (message.handle !== undefined) sockets.set(message.name, message.handle);
    }
    // A worker's rescue cannot carry every worker's counts: counters start afresh in a new epoch.
    const continued = adopt.from === 'keeper';
    const keeper = new Keeper({
      ...common,
      epoch: continued ? adopt.epoch : newEpoch(),
      ...(continued ? { departed: adopt.counters } : {}),
    });
    keeper.adopt(adopt.routes, sockets);
    keeper.startWorkers();
    if (!(await keeper.whenServing(SERVING_DEADLINE_MS)))
      throw new Error(`no worker served within ${SERVING_DEADLINE_MS}ms`);
    tell({ type: 'serving' });
    await inbox.next('released');
    const lock = await acquireWithin(stateDir, LOCK_DEADLINE_MS);
    if (lock === undefined) {
      // Someone else keeps the router (the daemon started one meanwhile): leave it to them.
      await keeper.shutdown(0);
      throw new Error('another router keeper holds the state directory');
    }
    writePidFile(files.pid);
    const { control, inode } = await listenControl(keeper, lock, logger, files.socket);
    tell({ type: 'ready', pid: process.pid });
    process.disconnect?.();
    logger.info({ from: adopt.from, routes: adopt.routes.length }, 'took over the router');
    return { keeper, lock, control, socketInode: inode };
  } catch (error) {
    logger.error({ err: messageOf(error) }, 'router takeover failed');
    tell({ type: 'failed', error: describeFailure(error) });
    return undefined;
  }
}

async function acquireWithin(stateDir: string, timeoutMs: number): Promise<ProcessLock | undefined> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const attempt = await ProcessLock.acquire('router', stateDir, holderInfo);
    if (attempt.acquired) return attempt.lock;
    if (Date.now() >= deadline) return undefined;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/**
 * Binds the control API aside and renames it into place, so a client connecting at any moment
 * reaches this keeper or its predecessor, never nothing. Returns the socket file's inode: on exit
 * the file is removed only if it is still this keeper's.
 */
async function listenControl(
  keeper: Keeper,
  lock: ProcessLock,
  logger: Logger,
  socketPath: string,
): Promise<{ control: Server; inode: number }> {
  const control = createControlServer(
    {
      health: () => keeper.health(),
      routes: () => keeper.routes(),
      stats: () => keeper.stats(),
      putRoute: (spec) => keeper.putRoute(spec),
      deleteRoute: (name) => keeper.deleteRoute(name),
      setWorkers: (count) => keeper.setWorkers(count),
      handOver: async (entry) => {
        const pid = await keeper.handOver(entry, async () => {
          control.close();
          await lock.release();
        });
        // Answer first, then stop: the caller waits for this response.
        setImmediate(() => handingOver?.(pid));
        return pid;
      },
    },
    logger,
  );
  const temp = `${socketPath}.${process.pid}.tmp`;
  rmSync(temp, { force: true });
  await new Promise<void>((resolve, reject) => {
    control.once('error', reject);
    control.listen(temp, () => {
      control.off('error', reject);
      resolve();
    });
  });
  const inode = statSync(temp).ino;
  renameSync(temp, socketPath);
  return { control, inode };
}

function holderInfo(): { pid: number; version: string } {
  return { pid: process.pid, version: FERRY_VERSION };
}

function ownsSocketFile(socketPath: string, inode: number): boolean {
  try {
    return statSync(socketPath).ino === inode;
  } catch {
    return false;
  }
}

function writePidFile(pidPath: string): void {
  const temp = `${pidPath}.${process.pid}.tmp`;
  writeFileSync(temp, `${process.pid}\n`, { mode: 0o600 });
  renameSync(temp, pidPath);
}

function tell(message: SuccessorMessage): void {
  if (process.connected) process.send?.(message);
}

type Inbound = PredecessorMessage & { handle?: SocketHandle };

/** The predecessor's messages in order, each awaited by type (with the handle that came along). */
function predecessorInbox(): {
  next<T extends PredecessorMessage['type']>(type: T): Promise<Extract<PredecessorMessage, { type: T }>>;
  nextOf<T extends PredecessorMessage['type']>(types: T[]): Promise<Extract<Inbound, { type: T }>>;
} {
  const queue: Inbound[] = [];
  let waiter: (() => void) | undefined;
  let gone = false;
  process.on('message', (message: unknown, handle: SocketHandle | undefined) => {
    if (!isMessage<PredecessorMessage>(message)) return;
    queue.push(handle === undefined ? message : { ...message, handle });
    waiter?.();
  });
  process.once('disconnect', () => {
    gone = true;
    waiter?.();
  });
  const take = async <T extends PredecessorMessage['type']>(
    types: T[],
  ): Promise<Extract<Inbound, { type: T }>> => {
    const deadline = Date.now() + SERVING_DEADLINE_MS + LOCK_DEADLINE_MS;
    for (;;) {
      const message = queue.shift();
      if (message !== undefined) {
        if ((types as string[]).includes(message.type)) return message as Extract<Inbound, { type: T }>;
        throw new Error(`handover: expected ${types.join(' or ')}, got ${message.type}`);
      }
      if (gone) throw new Error('the predecessor went away during the handover');
      const remaining = deadline - Date.now();
      if (remaining <= 0) throw new Error(`handover: no ${types.join(' or ')} from the predecessor in time`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, remaining);
        waiter = () => {
          clearTimeout(timer);
          waiter = undefined;
          resolve();
        };
      });
    }
  };
  return {
    next: async (type) => await take([type]),
    nextOf: take,
  };
}

/**
 * Every socket error is handled where it happens; this is the last net. The keeper holds every
 * app's listening socket: it logs a bug and keeps going rather than exit.
 */
function keepRunningThroughBugs(logger: Logger): void {
  process.on('uncaughtException', (error) =>
    logger.error({ err: messageOf(error), stack: error.stack }, 'uncaught exception'),
  );
  process.on('unhandledRejection', (reason) =>
    logger.error({ err: messageOf(reason) }, 'unhandled rejection'),
  );
}

main().then(
  (code) => {
    process.exitCode = code;
    // Timers of a drained pool may linger for a moment; do not wait on them.
    setTimeout(() => process.exit(code), 500).unref();
  },
  (error: unknown) => {
    process.stderr.write(`ferry router: ${messageOf(error)}\n`);
    process.exit(1);
  },
);
