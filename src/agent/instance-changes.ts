import type { InstanceChange } from '../protocol/report.js';
import type { InstanceRecord } from '../store/store.js';
import type { ProcessUsage, SupervisorEvent } from '../supervisor/index.js';
import type { InstanceDescription } from './app-host-views.js';
import type { TrackedInstance } from './instance.js';

/**
 * The change a supervisor event shows, with its detail; null for one the stream does not show (a
 * first start is published when the host starts the instance; an expected exit is its stop).
 */
export function changeOf(event: SupervisorEvent): { state: InstanceChange; detail: string | null } | null {
  if (event.type === 'started') return event.restarts > 0 ? { state: 'restarted', detail: null } : null;
  if (event.type === 'crash-loop')
    return { state: 'crash-loop', detail: `restarted ${event.restarts} times within the crash-loop window` };
  if (event.type === 'exited' && !event.expected)
    return {
      state: 'crashed',
      detail:
        event.signal !== null
          ? `killed by ${event.signal}`
          : event.code !== null
            ? `exited with code ${event.code}`
            : 'exited',
    };
  return null;
}

/** The record's state after a supervisor event; undefined when the event does not change it. */
export function recordStateOf(event: SupervisorEvent): InstanceRecord['state'] | undefined {
  if (event.type === 'started') return 'running';
  if (event.type === 'crash-loop') return 'crash-loop';
  if (event.type === 'exited' && !event.expected) return 'crashed';
  return undefined;
}

/** One instance as `ferry status` shows it, with its process's usage (as `pm2 ls`). */
export function describeInstance(
  i: TrackedInstance,
  usage: ProcessUsage | null,
  now: number,
): InstanceDescription {
  return {
    id: i.record.id,
    version: i.record.version,
    port: i.record.port,
    pid: i.record.pid,
    state: i.phase === 'retiring' ? 'retiring' : i.record.state,
    health: i.health,
    lastFailure: i.lastFailure?.detail ?? null,
    uptimeMs: usage?.startedAt != null ? Math.max(0, now - usage.startedAt) : null,
    restarts: i.record.restarts,
    lastExit: i.record.lastExit ?? null,
    cpuPercent: usage?.cpuPercent ?? null,
    memoryBytes: usage?.rssBytes ?? null,
    cpuSeconds: usage?.cpuSeconds ?? null,
  };
}
