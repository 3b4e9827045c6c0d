import { describe, expect, it } from 'vitest';
import { parseConfig } from '../config/load.js';
import { localReport } from '../protocol/test-support/messages.js';
import { runningInstance } from '../server/fleet/test-support/fleet-parts.js';
import { runConfigDrift } from './run-config-restart.js';

const config = parseConfig(
  `apps:
  web:
    artifact: { url: "https://releases.example.com/web-{version}.tar.gz", require_checksum: false }
    run: { command: node, args: [server.mjs] }
    listen: "127.0.0.1:8080"
    instances: 2
`,
  { configPath: '/etc/ferry/ferry.yaml', env: { FERRY_HOME: '/var/lib/ferry' } },
);

const serving = () => '1.0.0';

describe('runConfigDrift: what restarts for a run configuration changed while the daemon was down', () => {
  it('an app whose serving instances the host reports stale', () => {
    const stale = { stale: true };
    const drift = runConfigDrift(
      localReport({
        app: 'web',
        instances: [runningInstance('a', '1.0.0', stale), runningInstance('b', '1.0.0')],
      }),
      config,
      serving,
    );
    expect(drift).toEqual([{ app: 'web', env: 'production', stale: 1, extra: 0 }]);
  });

  it('an app with more serving instances than configured; retiring ones and other releases do not count', () => {
    const instances = [
      runningInstance('a', '1.0.0'),
      runningInstance('b', '1.0.0'),
      runningInstance('c', '1.0.0', { state: 'retiring', stale: true }),
      runningInstance('d', '0.9.0', { stale: true }),
    ];
    expect(runConfigDrift(localReport({ app: 'web', instances }), config, serving)).toEqual([]);
    instances.push(runningInstance('e', '1.0.0'));
    expect(runConfigDrift(localReport({ app: 'web', instances }), config, serving)).toEqual([
      { app: 'web', env: 'production', stale: 0, extra: 1 },
    ]);
  });

  it('an app that left the configuration, one with no current release, or `__proto__`: never', () => {
    const stale = [runningInstance('a', '1.0.0', { stale: true })];
    expect(runConfigDrift(localReport({ app: 'gone', instances: stale }), config, serving)).toEqual([]);
    expect(runConfigDrift(localReport({ app: '__proto__', instances: stale }), config, serving)).toEqual([]);
    expect(runConfigDrift(localReport({ app: 'web', instances: stale }), config, () => null)).toEqual([]);
  });
});
