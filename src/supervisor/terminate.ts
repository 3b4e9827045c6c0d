import { setTimeout as pollPause } from 'node:timers/promises';
import { systemClock, type Clock } from '../lib/clock.js';
import { isLiveStat, liveGroupMembers, readProcessStat } from './proc.js';

/** How often /proc is read while waiting for an exit: observation, not timing logic. */
const POLL_MS = 50;
/** After SIGKILL the kernel needs a moment; longer than this means a process stuck in the kernel. */
const KILL_WAIT_MS = 5_000;

/** A process to terminate; when it leads a process group the whole group is signalled. */
export interface TerminateTarget {
  readonly pid: number;
  readonly pidStart: number;
  readonly leadsGroup: boolean;
}

/**
 * Terminates in layers: SIGTERM, up to `graceMs` on `clock` for everything to exit, then SIGKILL.
 * `killed` tells whether SIGKILL was needed. Nothing is signalled unless the process is the one
 * identified (same start time), so a reused pid is never hit.
 */
export async function terminate(
  target: TerminateTarget,
  graceMs: number,
  clock: Clock = systemClock,
): Promise<{ killed: boolean }> {
  if (!sendSignal(target, 'SIGTERM')) return { killed: false };
  if (await waitUntil(() => !hasLiveParts(target), graceMs, clock)) return { killed: false };
  sendSignal(target, 'SIGKILL');
  await waitUntil(() => !hasLiveParts(target), KILL_WAIT_MS, clock);
  return { killed: true };
}

/**
 * Terminates a process found by pid and start time (an orphan, the daemon) and, when it leads a
 * process group (as every instance does: they are spawned detached), its whole group.
 */
export async function killProcessTree(
  pid: number,
  pidStart: number,
  graceMs: number,
): Promise<{ killed: boolean }> {
  const stat = readProcessStat(pid);
  if (!isLiveStat(stat) || stat.starttime !== pidStart) return { killed: false };
  return terminate({ pid, pidStart, leadsGroup: stat.pgrp === pid }, graceMs);
}

/**
 * Whether anything of the target still runs: the process itself or, for a group, any member left
 * behind by a leader that already exited.
 */
export function hasLiveParts(target: TerminateTarget): boolean {
  const leader = readProcessStat(target.pid);
  if (isLiveStat(leader)) {
    if (leader.starttime === target.pidStart) return true;
    // The pid was reused, which the kernel only allows once the old group is empty.
    return false;
  }
  return target.leadsGroup && liveGroupMembers(target.pid).length > 0;
}

function sendSignal(target: TerminateTarget, signal: NodeJS.Signals): boolean {
  if (!hasLiveParts(target)) return false;
  try {
    process.kill(target.leadsGroup ? -target.pid : target.pid, signal);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ESRCH') return false;
    throw error;
  }
}

/**
 * Polls `done` until it holds or `timeoutMs` passed on `clock`; true when it held. The deadline is
 * the clock's (a fake one decides when a grace period is over); the polling only looks at /proc.
 */
async function waitUntil(done: () => boolean, timeoutMs: number, clock: Clock): Promise<boolean> {
  if (done()) return true;
  if (timeoutMs <= 0) return false;
  let expired = false;
  const deadline = new AbortController();
  const timer = clock.setTimeout(() => {
    expired = true;
    deadline.abort();
  }, timeoutMs);
  try {
    while (!done()) {
      if (expired) return false;
      await pollPause(POLL_MS, undefined, { signal: deadline.signal }).catch(() => undefined);
    }
    return true;
  } finally {
    clock.clearTimeout(timer);
  }
}
