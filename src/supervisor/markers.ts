import { isLiveStat, listPids, readEnviron, readProcessStat } from './proc.js';
import type { ProcessIdentity } from './types.js';

/** An instance process found in /proc, named by the FERRY_INSTANCE_ID marker it carries. */
export interface MarkedProcess extends ProcessIdentity {
  readonly instanceId: string;
}

/**
 * Instance processes of one Ferry home, found by the markers in their environment (FERRY_HOME and
 * FERRY_INSTANCE_ID), whoever their parent is. This is how a restarted daemon finds an instance
 * spawned just before a crash, before its pid was saved.
 *
 * An app's own child processes inherit the markers; they are reported only when their group
 * leader (the instance) is gone, so the instance is reported once and leftovers are not missed.
 */
export function findMarkedProcesses(ferryHome: string): MarkedProcess[] {
  const marked: Array<MarkedProcess & { pgrp: number }> = [];
  for (const pid of listPids()) {
    if (pid === process.pid) continue;
    const stat = readProcessStat(pid);
    if (!isLiveStat(stat)) continue;
    const environ = readEnviron(pid);
    const instanceId = environ?.get('FERRY_INSTANCE_ID');
    if (!instanceId || environ?.get('FERRY_HOME') !== ferryHome) continue;
    marked.push({ pid, pidStart: stat.starttime, instanceId, pgrp: stat.pgrp });
  }
  const leaders = new Set(marked.filter((p) => p.pgrp === p.pid).map((p) => p.pid));
  return marked
    .filter((p) => p.pgrp === p.pid || !leaders.has(p.pgrp))
    .map(({ pid, pidStart, instanceId }) => ({ pid, pidStart, instanceId }));
}
