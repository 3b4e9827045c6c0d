import type { AppOnHost, HostDesiredState } from '../desired-state.js';
import type { AppReport, HostReport } from '../report.js';

/** One app on a host, running `version` with `instances` instances. */
export function appOnHost(version: string, instances = 2): AppOnHost {
  return {
    app: 'web',
    env: 'production',
    spec: { config: { run: { command: 'node', args: ['server.js'] } }, digest: 'run-1' },
    releases: [
      {
        version,
        artifact: { url: `https://releases.example/web-${version}.tar.gz`, checksum: null },
        instances,
        retire: [],
        weight: 100,
      },
    ],
    current: version,
    stopNow: [],
    tasks: [],
  };
}

/** A desired state (without host and revision, which the store gives) running `version`. */
export function draftRunning(version: string, instances = 2): Omit<HostDesiredState, 'host' | 'revision'> {
  return { apps: [appOnHost(version, instances)] };
}

/** A report of `host` at desired `revision`; `note` tells reports apart (the agent's version field). */
export function hostReport(host: string, revision: number, note = 'test', at = 1_000): HostReport {
  return {
    host,
    agentVersion: note,
    revision,
    at,
    labels: { role: 'web' },
    apps: [
      {
        app: 'web',
        env: 'production',
        releases: [{ version: '1.0.0', install: 'installed' }],
        instances: [],
        current: '1.0.0',
        traffic: [{ version: '1.0.0', weight: 1 }],
        route: null,
        tasks: [],
      },
    ],
  };
}

/** The server's own host's report of these apps (in production unless said), nothing else in it. */
export function localReport(
  ...apps: Array<Pick<AppReport, 'app' | 'instances'> & Partial<AppReport>>
): HostReport {
  return {
    host: 'local',
    agentVersion: 'test',
    revision: 1,
    at: 1_000,
    labels: {},
    apps: apps.map((a) => ({
      env: 'production',
      releases: [],
      current: null,
      traffic: [],
      route: null,
      tasks: [],
      ...a,
    })),
  };
}
