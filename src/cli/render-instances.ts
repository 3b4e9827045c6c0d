import type { InstanceView } from '../api/types.js';
import { exitReason } from '../lib/exit-reason.js';
import { formatDateTime, formatUptime } from './format.js';

/**
 * One instance in `ferry status`, as `pm2 ls` shows a process: id, release, pid, port, state and
 * health, then uptime, restarts, CPU over the last interval, memory (RSS) and how it last exited.
 * A daemon that does not report the process view gets the first columns only.
 */
export function renderInstanceLine(i: InstanceView): string {
  const failure = i.lastFailure && i.health !== 'healthy' ? `  last check: ${i.lastFailure}` : '';
  const base = `  ${i.id.padEnd(28)} ${i.version.padEnd(18)} pid ${String(i.pid ?? '-').padEnd(8)} port ${String(i.port).padEnd(6)} ${i.state.padEnd(10)} ${i.health.padEnd(9)}`;
  if (i.restarts === undefined) return `${base.trimEnd()}${failure}`;
  const usage = [
    `up ${formatUptime(i.uptimeMs ?? null).padEnd(7)}`,
    `restarts ${String(i.restarts).padEnd(3)}`,
    `cpu ${(i.cpuPercent == null ? '-' : `${i.cpuPercent.toFixed(1)}%`).padEnd(6)}`,
    `mem ${formatMemory(i.memoryBytes ?? null).padEnd(9)}`,
  ].join(' ');
  const exit = i.lastExit ? `  last exit: ${exitReason(i.lastExit)} at ${formatDateTime(i.lastExit.at)}` : '';
  return `${base} ${usage}${exit}${failure}`.trimEnd();
}

/** Bytes as "42.1 MiB" (or KiB, GiB); "-" when unknown. */
function formatMemory(bytes: number | null): string {
  if (bytes === null) return '-';
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(0)} KiB`;
  if (bytes < 1024 ** 3) return `${(bytes / 1024 ** 2).toFixed(1)} MiB`;
  return `${(bytes / 1024 ** 3).toFixed(2)} GiB`;
}
