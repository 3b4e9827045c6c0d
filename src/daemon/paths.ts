import path from 'node:path';

/** Where the daemon keeps everything under its data directory (FERRY_HOME). */
export function daemonPaths(home: string) {
  return {
    home,
    db: path.join(home, 'ferry.db'),
    token: path.join(home, 'api-token'),
    daemonFile: path.join(home, 'daemon.json'),
    /** Names the daemon holding the data directory's lock (the lock itself is a socket). */
    lockFile: path.join(home, 'daemon.lock'),
    log: path.join(home, 'daemon.log'),
    routerDir: path.join(home, 'router'),
    /** The embedded agent's own state: the last desired state of this host. */
    agentDir: path.join(home, 'agent'),
    /** The control plane's key-value store (desired states of hosts). */
    kv: path.join(home, 'control.db'),
    appsDir: path.join(home, 'apps'),
    appDir: (app: string, env: string) => path.join(home, 'apps', app, env),
  };
}

export type DaemonPaths = ReturnType<typeof daemonPaths>;
