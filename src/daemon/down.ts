import { defaultFerryHome } from '../config/home.js';
import { readDaemonInfo } from '../api/discovery.js';
import { isProcessAlive, killProcessTree, readPidStart } from '../supervisor/index.js';
import { isLockHeld, readLockHolder } from './lock.js';
import { daemonPaths } from './paths.js';
import { STOP_ALL_GRACE_MS, stopInstancesAndRouter } from './stop-all.js';

/** What `ferry down` did, and what it left alone with the reason. */
export interface DownReport {
  readonly stopped: string[];
  readonly notes: string[];
}

/**
 * `ferry down`: stops the daemon, then every app instance and the router of the data directory.
 * Only a process proven to be the daemon is signalled: a daemon holds the data directory's lock,
 * and its records name it by pid and start time, so a pid reused by another process is left alone.
 */
export async function down(home: string = defaultFerryHome()): Promise<DownReport> {
  const paths = daemonPaths(home);
  const stopped: string[] = [];
  const notes: string[] = [];
  const daemon = await runningDaemon(home, paths.lockFile, notes);
  if (daemon) {
    await killProcessTree(daemon.pid, daemon.pidStart, STOP_ALL_GRACE_MS);
    stopped.push(`daemon (pid ${daemon.pid})`);
  }
  const { instances, routerPid, routerOthers } = await stopInstancesAndRouter(paths);
  if (instances > 0) stopped.push(`${instances} instance(s)`);
  if (routerPid !== null) stopped.push(`router (pid ${routerPid})`);
  if (routerOthers > 0) stopped.push(`${routerOthers} router process(es) left by an earlier router`);
  return { stopped, notes };
}

async function runningDaemon(
  home: string,
  lockFile: string,
  notes: string[],
): Promise<{ pid: number; pidStart: number } | undefined> {
  const info = readDaemonInfo(home);
  if (!(await isLockHeld(home))) {
    if (info && info.pidStart === null && readPidStart(info.pid) !== null)
      notes.push(
        `daemon.json names pid ${info.pid} without its start time (written by an older Ferry): it was not signalled; if it is a Ferry daemon, stop it with kill -TERM ${info.pid}`,
      );
    return undefined;
  }
  const holder = readLockHolder(lockFile);
  if (holder) return holder;
  if (info && info.pidStart !== null && isProcessAlive(info.pid, info.pidStart))
    return { pid: info.pid, pidStart: info.pidStart };
  notes.push(
    'a daemon holds the lock of this data directory but does not name itself yet; run ferry down again shortly',
  );
  return undefined;
}
