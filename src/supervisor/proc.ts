import { readFileSync, readdirSync } from 'node:fs';

/** The fields of /proc/<pid>/stat the supervisor relies on. */
export interface ProcessStat {
  readonly pid: number;
  /** R, S, D, T, Z (zombie), X (dead)... */
  readonly state: string;
  readonly ppid: number;
  /** The process group id; an instance is the leader of its own group (pgrp === pid). */
  readonly pgrp: number;
  /** CPU time in user and kernel mode, in clock ticks (fields 14 and 15). */
  readonly utime: number;
  readonly stime: number;
  readonly starttime: number;
}

/** Parses /proc/<pid>/stat; null when the process is gone (or /proc cannot be read). */
export function readProcessStat(pid: number): ProcessStat | null {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return null;
  }
  return parseProcessStat(pid, text);
}

/** The fields of a /proc/<pid>/stat text; null when it makes no sense. */
export function parseProcessStat(pid: number, text: string): ProcessStat | null {
  // The command name (field 2) is in parentheses and may itself contain spaces and parentheses.
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  const [state, ppid, pgrp] = fields;
  const starttime = Number(fields[19]);
  if (state === undefined || !Number.isFinite(starttime)) return null;
  return {
    pid,
    state,
    ppid: Number(ppid),
    pgrp: Number(pgrp),
    utime: Number(fields[11]),
    stime: Number(fields[12]),
    starttime,
  };
}

/**
 * Field 22 of /proc/<pid>/stat: when the process started, in clock ticks since boot; null if gone.
 * A zombie still has its start time; isProcessAlive() tells whether it still runs.
 */
export function readPidStart(pid: number): number | null {
  return readProcessStat(pid)?.starttime ?? null;
}

/** A zombie has exited already; only its parent's wait() keeps the entry. */
export function isLiveStat(stat: ProcessStat | null): stat is ProcessStat {
  return stat !== null && stat.state !== 'Z' && stat.state !== 'X';
}

/** True when this very process (same pid and start time, so not a reused pid) still runs. */
export function isProcessAlive(pid: number, pidStart: number): boolean {
  const stat = readProcessStat(pid);
  return isLiveStat(stat) && stat.starttime === pidStart;
}

/** Every pid in /proc. */
export function listPids(): number[] {
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return [];
  }
  return entries.filter((name) => /^\d+$/.test(name)).map(Number);
}

/** Live (non-zombie) processes of a process group. */
export function liveGroupMembers(pgrp: number): ProcessStat[] {
  const members: ProcessStat[] = [];
  for (const pid of listPids()) {
    const stat = readProcessStat(pid);
    if (isLiveStat(stat) && stat.pgrp === pgrp) members.push(stat);
  }
  return members;
}

/** The environment a process was started with; null when it is gone or not ours to read. */
export function readEnviron(pid: number): Map<string, string> | null {
  let raw: string;
  try {
    raw = readFileSync(`/proc/${pid}/environ`, 'utf8');
  } catch {
    return null;
  }
  const vars = new Map<string, string>();
  for (const entry of raw.split('\0')) {
    const eq = entry.indexOf('=');
    if (eq > 0) vars.set(entry.slice(0, eq), entry.slice(eq + 1));
  }
  return vars;
}

/** The arguments a process was started with (argv), or null when it is gone or not ours to read. */
export function readCmdline(pid: number): string[] | null {
  try {
    const raw = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    const args = raw.split('\0');
    if (args.at(-1) === '') args.pop();
    return args.length > 0 ? args : null;
  } catch {
    return null;
  }
}

/** The real user and group ids of a process, from /proc/<pid>/status; null when it is gone. */
export function readOwner(pid: number): { uid: number; gid: number } | null {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/status`, 'utf8');
  } catch {
    return null;
  }
  const id = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+)`, 'm').exec(text)?.[1]);
  const uid = id('Uid');
  const gid = id('Gid');
  return Number.isInteger(uid) && Number.isInteger(gid) ? { uid, gid } : null;
}
