import type { Logger } from '../lib/logger.js';
import type { InstanceRecord } from '../store/store.js';
import { killProcessTree, type Supervisor } from '../supervisor/index.js';

const ORPHAN_GRACE_MS = 5_000;

/**
 * Reconciles the processes that carry this data dir's marker with the instance records, at start:
 * a process whose record has no pid yet (the daemon died between persisting the record and the
 * spawn returning) gets its pid recorded and is adopted; a process with no record at all is an
 * orphan and is stopped, unless `stopOrphans` is off (`ferry up --adopt` kills nothing). Returns
 * the records, completed.
 */
export async function reapOrphans(
  supervisor: Supervisor,
  records: readonly InstanceRecord[],
  logger: Logger,
  opts: { readonly stopOrphans: boolean } = { stopOrphans: true },
): Promise<InstanceRecord[]> {
  const byId = new Map(records.map((r) => [r.id, r]));
  const completed = [...records];
  for (const found of await supervisor.findMarkedProcesses()) {
    const record = byId.get(found.instanceId);
    if (record && record.pid === found.pid && record.pidStart === found.pidStart) continue;
    if (record && record.pid === null) {
      const index = completed.indexOf(record);
      completed[index] = { ...record, pid: found.pid, pidStart: found.pidStart, state: 'running' };
      logger.info(
        { instance: record.id, pid: found.pid },
        'found the process of an instance spawned just before a crash',
      );
      continue;
    }
    if (!opts.stopOrphans) {
      logger.warn(
        { instance: found.instanceId, pid: found.pid },
        'leaving an unknown instance process alone',
      );
      continue;
    }
    logger.warn({ instance: found.instanceId, pid: found.pid }, 'stopping an orphan instance process');
    await killProcessTree(found.pid, found.pidStart, ORPHAN_GRACE_MS);
  }
  return completed;
}
