import { readFileSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';

/** The files a router keeps in its state directory. */
export function routerFiles(stateDir: string): { pid: string; socket: string; log: string; routes: string } {
  return {
    pid: join(stateDir, 'router.pid'),
    socket: join(stateDir, 'router.sock'),
    log: join(stateDir, 'router.log'),
    routes: join(stateDir, 'routes.json'),
  };
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

/**
 * Every process of the router of stateDir (the keeper, its workers, a successor), found by its
 * command line: they all run with `--state-dir <dir>`. For stopping what a dead keeper left behind.
 */
export function findRouterProcesses(stateDir: string): number[] {
  const wanted = resolve(stateDir);
  const pids: number[] = [];
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return [];
  }
  for (const entry of entries) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    let args: string[];
    try {
      args = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0');
    } catch {
      continue;
    }
    const at = args.indexOf('--state-dir');
    // router/keeper/main and router/worker/main; router/main for a router from before the keeper.
    const isRouter = args.some((arg) => /router[/\\](?:(?:keeper|worker)[/\\])?main\.(js|ts)$/.test(arg));
    if (isRouter && at >= 0 && args[at + 1] !== undefined && resolve(args[at + 1]!) === wanted)
      pids.push(Number(entry));
  }
  return pids;
}
