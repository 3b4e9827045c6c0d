import { defaultFerryHome } from '../config/load.js';
import { readDaemonInfo } from '../api/discovery.js';
import { RouterClient } from '../router/client.js';
import { Supervisor, killProcessTree, readPidStart } from '../supervisor/index.js';
import { daemonPaths } from './paths.js';

const GRACE_MS = 10_000;

/** `ferry down`: stops the daemon, then every app instance and the router of the data directory. */
export async function down(home: string = defaultFerryHome()): Promise<string[]> {
  const paths = daemonPaths(home);
  const stopped: string[] = [];
  const info = readDaemonInfo(home);
  const daemonStart = info ? readPidStart(info.pid) : null;
  if (info && daemonStart !== null) {
    await killProcessTree(info.pid, daemonStart, GRACE_MS);
    stopped.push(`daemon (pid ${info.pid})`);
  }
  const supervisor = new Supervisor({ ferryHome: home });
  const instances = await supervisor.findMarkedProcesses();
  await Promise.all(instances.map((p) => killProcessTree(p.pid, p.pidStart, GRACE_MS)));
  supervisor.detach();
  if (instances.length > 0) stopped.push(`${instances.length} instance(s)`);
  const router = new RouterClient({ stateDir: paths.routerDir });
  if (
    await router.stop().then(
      () => true,
      () => false,
    )
  )
    stopped.push('router');
  return stopped;
}
