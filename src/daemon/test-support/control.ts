import { DaemonControl } from '../control.js';

type ControlDeps = ConstructorParameters<typeof DaemonControl>[0];

/**
 * The daemon's control with only the dependencies `given` real: any other one fails the test when
 * touched, naming it and `routes` (the routes under test).
 */
export function controlWith(routes: string, given: Partial<ControlDeps>): DaemonControl {
  const unused = <T>(name: string): T =>
    new Proxy(
      {},
      {
        get: () => {
          throw new Error(`${name} is not used by the ${routes}`);
        },
      },
    ) as T;
  return new DaemonControl({
    releases: unused('releases'),
    config: unused('config'),
    store: unused('store'),
    deployer: unused('deployer'),
    hostReport: () => null,
    hostLogs: unused('hostLogs'),
    followHostLogs: unused('followHostLogs'),
    applier: unused('applier'),
    readConfig: unused('readConfig'),
    version: '0.0.0-test',
    startedAt: 0,
    events: unused('events'),
    metrics: unused('metrics'),
    hostsView: unused('hostsView'),
    liveCounters: unused('liveCounters'),
    trust: unused('trust'),
    locks: unused('locks'),
    targets: unused('targets'),
    fleet: unused('fleet'),
    ...given,
  });
}
