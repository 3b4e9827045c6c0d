import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { FerryError, messageOf } from '../errors/ferry-error.js';
import { nodeArgsFor } from '../lib/entry.js';
import { isMessage, type PredecessorMessage, type SuccessorMessage } from './ipc.js';
import type { SocketHandle } from './keeper/listen-socket.js';
import { routerFiles } from './state-dir.js';
import type { RouteSpec, RouteStats } from './types.js';

/** How long a successor gets to take over (start its workers, accept, take the lock). */
const HANDOVER_DEADLINE_MS = 30_000;

export interface Handover {
  readonly stateDir: string;
  /** The keeper entry the successor runs: a newer Ferry's, on an upgrade. */
  readonly entry: URL;
  readonly workers: number;
  readonly drainMs: number;
  readonly routes: readonly RouteSpec[];
  readonly sockets: ReadonlyMap<string, SocketHandle>;
  readonly counters: Record<string, RouteStats>;
  readonly epoch: string;
  readonly from: 'keeper' | 'worker';
  /**
   * Called once the successor's workers accept on every socket: the predecessor stops accepting and
   * lets go of the lock (a worker holds none). The successor takes the lock after this resolves.
   */
  readonly release: () => Promise<void>;
}

/**
 * Starts a successor keeper and hands it the routing table, the counters and every listening
 * socket. Node passes sockets only to a child over its IPC channel, so the successor is spawned by
 * the process that holds them, detached so that it outlives it. Resolves with the successor's pid
 * once it holds the lock and the control socket; the caller then drains and exits.
 */
export async function handOver(handover: Handover): Promise<number> {
  const child = spawnSuccessor(handover);
  try {
    const replies = successorReplies(child);
    send(child, {
      type: 'adopt',
      routes: handover.routes,
      counters: handover.counters,
      epoch: handover.epoch,
      from: handover.from,
    });
    for (const spec of handover.routes) {
      const handle = handover.sockets.get(spec.name);
      if (handle === undefined) continue;
      send(
        child,
        { type: 'socket', name: spec.name, host: spec.listen.host, port: spec.listen.port },
        handle,
      );
    }
    send(child, { type: 'sockets-done' });
    await replies.next('serving');
    await handover.release();
    send(child, { type: 'released' });
    const ready = await replies.next('ready');
    child.disconnect();
    child.unref();
    return ready.pid;
  } catch (error) {
    if (child.exitCode === null) child.kill('SIGKILL');
    throw error;
  }
}

function spawnSuccessor(handover: Handover): ChildProcess {
  const log = openSync(routerFiles(handover.stateDir).log, 'a');
  try {
    const child = spawn(
      process.execPath,
      [
        ...nodeArgsFor(handover.entry),
        '--state-dir',
        handover.stateDir,
        '--workers',
        String(handover.workers),
        '--drain-ms',
        String(handover.drainMs),
        '--successor',
      ],
      { detached: true, stdio: ['ignore', log, log, 'ipc'] },
    );
    child.on('error', () => undefined);
    return child;
  } finally {
    closeSync(log);
  }
}

function send(child: ChildProcess, message: PredecessorMessage, handle?: SocketHandle): void {
  // The handle type is what node's IPC accepts (a TCP handle): see listen-socket.ts.
  child.send(message, handle as Parameters<ChildProcess['send']>[1]);
}

/** The successor's answers in order, each awaited by type; its exit or silence fails the handover. */
function successorReplies(child: ChildProcess): {
  next<T extends SuccessorMessage['type']>(type: T): Promise<Extract<SuccessorMessage, { type: T }>>;
} {
  const queue: SuccessorMessage[] = [];
  let waiter: ((message: SuccessorMessage) => void) | undefined;
  let failure: Error | undefined;
  let failWaiter: ((error: Error) => void) | undefined;
  const fail = (error: Error): void => {
    failure ??= error;
    failWaiter?.(failure);
  };
  child.on('message', (message: unknown) => {
    if (!isMessage<SuccessorMessage>(message)) return;
    if (message.type === 'failed') {
      fail(new FerryError('FERRY_E_ROUTER_UNREACHABLE', `the new router failed: ${message.error.message}`));
      return;
    }
    if (waiter) waiter(message);
    else queue.push(message);
  });
  child.once('exit', (code, signal) =>
    fail(
      new FerryError(
        'FERRY_E_ROUTER_UNREACHABLE',
        `the new router exited with ${signal ?? `code ${code}`} during the handover; see router.log`,
      ),
    ),
  );
  return {
    next<T extends SuccessorMessage['type']>(type: T): Promise<Extract<SuccessorMessage, { type: T }>> {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(
          () =>
            reject(
              new FerryError(
                'FERRY_E_ROUTER_UNREACHABLE',
                `the new router did not say "${type}" within ${HANDOVER_DEADLINE_MS}ms`,
              ),
            ),
          HANDOVER_DEADLINE_MS,
        );
        const settle = (message: SuccessorMessage): void => {
          clearTimeout(timer);
          waiter = undefined;
          failWaiter = undefined;
          if (message.type === type) resolve(message as Extract<SuccessorMessage, { type: T }>);
          else
            reject(new FerryError('FERRY_E_INTERNAL', `handover: expected "${type}", got "${message.type}"`));
        };
        const queued = queue.shift();
        if (queued !== undefined) return settle(queued);
        if (failure !== undefined) {
          clearTimeout(timer);
          return reject(failure);
        }
        waiter = settle;
        failWaiter = (error) => {
          clearTimeout(timer);
          reject(error);
        };
      });
    },
  };
}

export function describeFailure(error: unknown): { code: string; message: string } {
  const code =
    typeof error === 'object' && error !== null && typeof (error as { code?: unknown }).code === 'string'
      ? (error as { code: string }).code
      : 'FERRY_E_INTERNAL';
  return { code, message: messageOf(error) };
}
