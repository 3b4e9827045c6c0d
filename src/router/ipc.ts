/**
 * Messages between the router's processes, over node's IPC channel (JSON; a socket handle may ride
 * along with a message). Every request carries a seq that its answer repeats.
 */
import type { RouteSpec, RouteStats } from './types.js';

/** The keeper to one of its workers. */
export type KeeperMessage =
  /** Who the worker is: its rank decides who rescues the sockets if the keeper dies. */
  | {
      readonly type: 'hello';
      /** -1 for the spare. */
      readonly rank: number;
      /** The spare holds every socket but accepts on none until it is activated. */
      readonly standby: boolean;
      /** How many workers the keeper runs (a rescued keeper runs as many). */
      readonly workers: number;
      readonly stateDir: string;
      readonly drainMs: number;
      readonly epoch: string;
    }
  /** Serve this route; `socket` names the listening socket, which comes with the message when new to the worker. */
  | { readonly type: 'route'; readonly seq: number; readonly spec: RouteSpec; readonly socket: string }
  | { readonly type: 'remove-route'; readonly seq: number; readonly name: string }
  | { readonly type: 'stats'; readonly seq: number }
  /** The spare takes a dead worker's place: accept on every socket now. */
  | { readonly type: 'activate'; readonly seq: number; readonly rank: number; readonly workers: number }
  /** Stop accepting everywhere, finish what is in flight (at most drainMs), then exit. */
  | { readonly type: 'drain'; readonly drainMs: number };

/** A worker to its keeper. */
export type WorkerMessage =
  | { readonly type: 'ready' }
  | { readonly type: 'ack'; readonly seq: number; readonly error?: WireError }
  | { readonly type: 'stats'; readonly seq: number; readonly routes: Record<string, RouteStats> };

export interface WireError {
  readonly code: string;
  readonly message: string;
}

/**
 * What a process handing over the sockets sends its successor keeper: first `adopt`, then one
 * `socket` message per route with its handle, then `sockets-done`.
 */
export type PredecessorMessage =
  | {
      readonly type: 'adopt';
      readonly routes: readonly RouteSpec[];
      /** Counters to carry on with, so cumulative counters never go backwards. */
      readonly counters: Record<string, RouteStats>;
      readonly epoch: string;
      /** Who hands over: a keeper being replaced, or a worker whose keeper died. */
      readonly from: 'keeper' | 'worker';
    }
  | { readonly type: 'socket'; readonly name: string; readonly host: string; readonly port: number }
  | { readonly type: 'sockets-done' }
  /** The predecessor let go of the state directory's lock: take it. */
  | { readonly type: 'released' };

/** The successor keeper to its predecessor. */
export type SuccessorMessage =
  /** Its workers accept on every socket: the predecessor may stop accepting and release the lock. */
  | { readonly type: 'serving' }
  /** It holds the lock and the control socket: the predecessor drains and exits. */
  | { readonly type: 'ready'; readonly pid: number }
  | { readonly type: 'failed'; readonly error: WireError };

export function isMessage<T extends { type: string }>(value: unknown): value is T {
  return (
    typeof value === 'object' && value !== null && typeof (value as { type?: unknown }).type === 'string'
  );
}
