import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { isLiveStat, parseProcessStat, readProcessStat } from './proc.js';

/** What /proc says of one process at a moment (Linux). */
export interface ProcessSample {
  /** CPU time used so far, user and system, in clock ticks (fields 14 and 15 of /proc/<pid>/stat). */
  readonly cpuTicks: number;
  /** Resident memory in bytes (field 2 of /proc/<pid>/statm, in pages). */
  readonly rssBytes: number;
  /** Start time in clock ticks since boot (field 22 of /proc/<pid>/stat): tells a reused pid apart. */
  readonly starttime: number;
}

/** The kernel's clock tick and page size, from getconf once (the usual values when it is missing). */
export interface SystemUnits {
  readonly ticksPerSecond: number;
  readonly pageBytes: number;
  /** When the system booted, ms since the epoch (btime of /proc/stat); null if unreadable. */
  readonly bootedAt: number | null;
}

let units: SystemUnits | undefined;

/** CLK_TCK, PAGESIZE and the boot time of this machine (read once per process). */
export function systemUnits(): SystemUnits {
  units ??= {
    ticksPerSecond: getconf('CLK_TCK', 100),
    pageBytes: getconf('PAGESIZE', 4096),
    bootedAt: readBootTime(),
  };
  return units;
}

function getconf(name: string, fallback: number): number {
  try {
    const value = Number(execFileSync('getconf', [name], { encoding: 'utf8', timeout: 2_000 }).trim());
    return Number.isInteger(value) && value > 0 ? value : fallback;
  } catch {
    return fallback;
  }
}

function readBootTime(): number | null {
  try {
    const match = /^btime (\d+)$/m.exec(readFileSync('/proc/stat', 'utf8'));
    return match ? Number(match[1]) * 1000 : null;
  } catch {
    return null;
  }
}

/** Parses the texts of /proc/<pid>/stat and /proc/<pid>/statm; null when they make no sense. */
export function parseProcessSample(stat: string, statm: string, pageBytes: number): ProcessSample | null {
  const fields = parseProcessStat(0, stat);
  const resident = Number(statm.split(' ')[1]);
  if (fields === null || ![fields.utime, fields.stime, resident].every(Number.isFinite)) return null;
  return {
    cpuTicks: fields.utime + fields.stime,
    rssBytes: resident * pageBytes,
    starttime: fields.starttime,
  };
}

/**
 * Samples a live process; null when it is gone, a zombie, or not the process that started at
 * `pidStart` (a reused pid), or when /proc cannot be read. Linux only.
 */
export function sampleProcess(pid: number, pidStart?: number | null): ProcessSample | null {
  const stat = readProcessStat(pid);
  if (!isLiveStat(stat) || (pidStart != null && stat.starttime !== pidStart)) return null;
  let statm: string;
  try {
    statm = readFileSync(`/proc/${pid}/statm`, 'utf8');
  } catch {
    return null;
  }
  const resident = Number(statm.split(' ')[1]);
  if (![stat.utime, stat.stime, resident].every(Number.isFinite)) return null;
  return {
    cpuTicks: stat.utime + stat.stime,
    rssBytes: resident * systemUnits().pageBytes,
    starttime: stat.starttime,
  };
}

/** What a process costs: its CPU time so far and its resident memory now. */
export interface ProcessTotals {
  /** User plus system CPU time since the process started, in seconds. */
  readonly cpuSeconds: number;
  /** Resident set size, in bytes. */
  readonly rssBytes: number;
}

/** A process's CPU time in seconds and resident memory (see sampleProcess); null when gone. */
export function readProcessUsage(pid: number, pidStart?: number | null): ProcessTotals | null {
  const sample = sampleProcess(pid, pidStart);
  if (sample === null) return null;
  return { cpuSeconds: sample.cpuTicks / systemUnits().ticksPerSecond, rssBytes: sample.rssBytes };
}

/**
 * The share of one CPU a process used between two samples taken `elapsedMs` apart, in percent
 * (above 100 for a process busy on several cores, as top and pm2 show it); null without time between.
 */
export function cpuPercent(
  before: ProcessSample,
  after: ProcessSample,
  elapsedMs: number,
  ticksPerSecond: number,
): number | null {
  if (elapsedMs <= 0) return null;
  const usedMs = ((after.cpuTicks - before.cpuTicks) * 1000) / ticksPerSecond;
  return Math.max(0, Math.round((usedMs / elapsedMs) * 1000) / 10);
}

/** When a process started (ms since the epoch), from its start time in ticks since boot. */
export function processStartedAt(starttime: number, units: SystemUnits = systemUnits()): number | null {
  if (units.bootedAt === null) return null;
  return units.bootedAt + Math.round((starttime * 1000) / units.ticksPerSecond);
}
