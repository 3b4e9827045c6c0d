import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { isLiveStat, readProcessStat } from './proc.js';

/** What a process costs: its CPU time so far and its resident memory now. */
export interface ProcessUsage {
  /** User plus system CPU time since the process started, in seconds. */
  readonly cpuSeconds: number;
  /** Resident set size, in bytes. */
  readonly rssBytes: number;
}

let units: { ticksPerSecond: number; pageBytes: number } | undefined;

/** The kernel's clock tick and page size (getconf, asked once); the usual 100 and 4096 if it fails. */
function systemUnits(): { ticksPerSecond: number; pageBytes: number } {
  if (units !== undefined) return units;
  const ask = (name: string, fallback: number): number => {
    try {
      const value = Number(execFileSync('getconf', [name], { encoding: 'utf8', timeout: 2000 }).trim());
      return Number.isInteger(value) && value > 0 ? value : fallback;
    } catch {
      return fallback;
    }
  };
  units = { ticksPerSecond: ask('CLK_TCK', 100), pageBytes: ask('PAGESIZE', 4096) };
  return units;
}

/**
 * Reads a process's CPU time (/proc/<pid>/stat) and resident memory (/proc/<pid>/statm); null when
 * it is gone or is not the process that started at `pidStart` (a reused pid). Linux only.
 */
export function readProcessUsage(pid: number, pidStart?: number | null): ProcessUsage | null {
  const stat = readProcessStat(pid);
  if (!isLiveStat(stat) || (pidStart != null && stat.starttime !== pidStart)) return null;
  let statm: string;
  try {
    statm = readFileSync(`/proc/${pid}/statm`, 'utf8');
  } catch {
    return null;
  }
  // statm: size resident shared text lib data dt, in pages.
  const resident = Number(statm.split(' ')[1]);
  if (!Number.isFinite(resident) || !Number.isFinite(stat.utime) || !Number.isFinite(stat.stime)) return null;
  const { ticksPerSecond, pageBytes } = systemUnits();
  return { cpuSeconds: (stat.utime + stat.stime) / ticksPerSecond, rssBytes: resident * pageBytes };
}
