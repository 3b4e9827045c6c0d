import { describe, expect, it } from 'vitest';
import { parseConfig } from '../config/load.js';
import { localReport } from '../protocol/test-support/messages.js';
import { runningInstance } from '../server/fleet/test-support/fleet-parts.js';
import { hostAppViews } from './host-app-views.js';

const config = parseConfig(
  `environments: { production: {}, staging: {}, fleet: { hosts: { role: web } } }
apps:
  web:
    artifact: { url: "https://releases.example.com/web-{version}.tar.gz", require_checksum: false }
    run: { command: node, args: [server.mjs] }
    listen: "127.0.0.1:8080"
    environments: { production: {}, staging: { listen: "127.0.0.1:9090" }, fleet: { listen: "0.0.0.0:8081" } }
`,
  { configPath: '/etc/ferry/ferry.yaml', env: { FERRY_HOME: '/var/lib/ferry' } },
);

describe('hostAppViews: what ferry status shows of the server’s own host, from its report', () => {
  it('the configuration’s apps here in its order, each with the instances its host reports', () => {
    const instance = runningInstance('web-1.0.0-a', '1.0.0', {
      port: 41000,
      startedAt: 10_000,
      lastFailure: 'GET /healthz: 503',
      exit: { code: 1, signal: null, at: 9_000 },
      rssBytes: 1024,
    });
    const views = hostAppViews(
      config,
      localReport({ app: 'web', env: 'staging', instances: [instance] }),
      15_000,
    );
    expect(views.map((v) => [v.app, v.env, v.listen, v.inConfig])).toEqual([
      ['web', 'production', '127.0.0.1:8080', true],
      ['web', 'staging', '127.0.0.1:9090', true],
    ]);
    expect(views[0]!.instances).toEqual([]);
    expect(views[1]!.instances).toEqual([
      {
        id: 'web-1.0.0-a',
        version: '1.0.0',
        port: 41000,
        pid: 1,
        state: 'running',
        health: 'healthy',
        lastFailure: 'GET /healthz: 503',
        uptimeMs: 5_000,
        restarts: 0,
        lastExit: { code: 1, signal: null, at: 9_000 },
        cpuPercent: null,
        memoryBytes: 1024,
      },
    ]);
  });

  it('an app the host reports that left the configuration comes after, not in config', () => {
    const views = hostAppViews(
      config,
      localReport({ app: '__proto__', env: 'production', listen: '127.0.0.1:7000', instances: [] }),
      0,
    );
    expect(views.at(-1)).toEqual({
      app: '__proto__',
      env: 'production',
      listen: '127.0.0.1:7000',
      instances: [],
      inConfig: false,
    });
  });

  it('before the host’s first report: the configured apps, without instances', () => {
    expect(hostAppViews(config, null, 0).map((v) => v.instances.length)).toEqual([0, 0]);
  });
});
