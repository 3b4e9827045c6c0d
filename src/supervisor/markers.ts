import { createHash } from 'node:crypto';
import { resolveRealPath } from '../lib/real-path.js';
import { isLiveStat, listPids, readEnviron, readProcessStat } from './proc.js';
import type { ProcessIdentity } from './types.js';

/** What an instance process says about itself in its environment (FERRY_APP, FERRY_ENV, ...). */
export interface InstanceLabels {
  readonly app: string;
  readonly env: string;
  readonly version: string;
  readonly port: number;
}

/** An instance process found in /proc, named by the FERRY_INSTANCE_ID marker it carries. */
export interface MarkedProcess extends ProcessIdentity {
  readonly instanceId: string;
  /** null when its environment lacks one of them (not an instance Ferry started whole). */
  readonly labels: InstanceLabels | null;
}

/**
 * The owner marker of a data directory: a short digest of its real path. Instances carry it as
 * FERRY_OWNER so that /proc tells data directories apart, without telling an app where the data
 * directory (and its API token) is.
 */
export function ownerMarker(ferryHome: string): string {
  return createHash('sha256').update(resolveRealPath(ferryHome)).digest('hex').slice(0, 16);
}

/**
 * Instance processes of one Ferry home, found by the markers in their environment (FERRY_OWNER and
 * FERRY_INSTANCE_ID), whoever their parent is. This is how a restarted daemon finds an instance
 * spawned just before a crash, before its pid was saved. Instances started by an older Ferry carry
 * FERRY_HOME=<data dir> instead of FERRY_OWNER: they are recognised too, so an upgrade re-adopts them.
 *
 * An app's own child processes inherit the markers; they are reported only when their group
 * leader (the instance) is gone, so the instance is reported once and leftovers are not missed.
 */
export function findMarkedProcesses(ferryHome: string): MarkedProcess[] {
  const isOwner = ownerTest(ferryHome);
  const marked: Array<MarkedProcess & { pgrp: number }> = [];
  for (const pid of listPids()) {
    if (pid === process.pid) continue;
    const stat = readProcessStat(pid);
    if (!isLiveStat(stat)) continue;
    const environ = readEnviron(pid);
    const instanceId = environ?.get('FERRY_INSTANCE_ID');
    if (!environ || !instanceId || !isOwner(environ)) continue;
    marked.push({ pid, pidStart: stat.starttime, instanceId, labels: labelsOf(environ), pgrp: stat.pgrp });
  }
  const leaders = new Set(marked.filter((p) => p.pgrp === p.pid).map((p) => p.pid));
  return marked
    .filter((p) => p.pgrp === p.pid || !leaders.has(p.pgrp))
    .map(({ pid, pidStart, instanceId, labels }) => ({ pid, pidStart, instanceId, labels }));
}

function ownerTest(ferryHome: string): (environ: ReadonlyMap<string, string>) => boolean {
  const marker = ownerMarker(ferryHome);
  const realHome = resolveRealPath(ferryHome);
  return (environ) => {
    const owner = environ.get('FERRY_OWNER');
    // An app's own run.env may set FERRY_HOME (to drive some Ferry); the owner marker decides first.
    if (owner !== undefined) return owner === marker;
    const legacy = environ.get('FERRY_HOME');
    return legacy !== undefined && (legacy === ferryHome || resolveRealPath(legacy) === realHome);
  };
}

function labelsOf(environ: ReadonlyMap<string, string>): InstanceLabels | null {
  const app = environ.get('FERRY_APP');
  const env = environ.get('FERRY_ENV');
  const version = environ.get('FERRY_VERSION');
  const port = Number(environ.get('PORT'));
  if (!app || !env || !version || !Number.isInteger(port) || port <= 0 || port > 65_535) return null;
  return { app, env, version, port };
}
