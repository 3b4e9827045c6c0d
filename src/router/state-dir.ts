import { linkSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** The files a router keeps in its state directory. */
export function routerFiles(stateDir: string): { pid: string; socket: string; log: string; routes: string } {
  return {
    pid: join(stateDir, 'router.pid'),
    socket: join(stateDir, 'router.sock'),
    log: join(stateDir, 'router.log'),
    routes: join(stateDir, 'routes.json'),
  };
}

/**
 * Claims the state directory for this process by creating router.pid exclusively, so two routers
 * started at the same moment cannot both take the socket. A pid file left by a router that died is
 * taken over. Returns undefined when claimed, or the pid of the live router that owns the directory.
 */
export function claimStateDir(pidPath: string): number | undefined {
  // Written aside, then hard-linked into place: link() fails if the name exists, and the pid file
  // is never seen empty (an empty one would look stale and be taken over).
  const temp = `${pidPath}.${process.pid}.tmp`;
  writeFileSync(temp, `${process.pid}\n`, { mode: 0o600 });
  try {
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        linkSync(temp, pidPath);
        return undefined;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      }
      const owner = readPidFile(pidPath);
      if (owner !== undefined && owner !== process.pid && isRouterProcess(owner)) return owner;
      rmSync(pidPath, { force: true });
    }
    // Another starter took the stale file over between our two tries.
    return readPidFile(pidPath) ?? -1;
  } finally {
    rmSync(temp, { force: true });
  }
}

export function readPidFile(pidPath: string): number | undefined {
  try {
    const pid = Number.parseInt(readFileSync(pidPath, 'utf8'), 10);
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Alive, and (where /proc tells) a router rather than an unrelated process that reused the pid. */
export function isRouterProcess(pid: number): boolean {
  if (!isAlive(pid)) return false;
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('--state-dir');
  } catch {
    return true;
  }
}
