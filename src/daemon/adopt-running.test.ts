import { describe, expect, it } from 'vitest';
import { parseConfig } from '../config/load.js';
import type { RouteSpec } from '../router/types.js';
import { openSqliteStore } from '../store/sqlite/sqlite-store.js';
import type { MarkedProcess } from '../supervisor/index.js';
import { adoptRunning, chooseServingRelease, releaseWeights } from './adopt-running.js';

const config = parseConfig(
  `apps:
  web:
    artifact: { url: "https://releases.example.com/web-{version}.tar.gz", checksums: "https://releases.example.com/SHA256SUMS" }
    run: { command: node, args: [server.mjs] }
    listen: "127.0.0.1:8080"
`,
  { configPath: '/etc/ferry/ferry.yaml', env: { FERRY_HOME: '/var/lib/ferry' } },
);

function marked(pid: number, version: string, app = 'web'): MarkedProcess {
  return {
    pid,
    pidStart: pid * 10,
    instanceId: `${app}-${version}-${pid}`,
    labels: { app, env: 'production', version, port: 40_000 + pid },
  };
}

function route(backends: Array<[release: string, weight: number]>): RouteSpec {
  return {
    name: 'web.production',
    listen: { host: '127.0.0.1', port: 8080 },
    backends: backends.map(([release, weight], n) => ({
      id: `i-${n}`,
      release,
      host: '127.0.0.1',
      port: 40_000 + n,
      weight,
      healthy: true,
    })),
  };
}

describe('the release adopted instances serve', () => {
  it('is the one most instances run; a tie goes to the router weights, then to the greater version', () => {
    const none = new Map<string, number>();
    expect(chooseServingRelease(['1.1.0', '1.1.0', '1.0.0'], none)).toBe('1.1.0');
    expect(
      chooseServingRelease(
        ['1.0.0', '1.1.0'],
        new Map([
          ['1.0.0', 90],
          ['1.1.0', 10],
        ]),
      ),
    ).toBe('1.0.0');
    expect(chooseServingRelease(['1.0.0', '1.1.0'], none)).toBe('1.1.0');
    expect(chooseServingRelease(['constructor', 'constructor'], none)).toBe('constructor');
  });

  it('keeps the weights per release as the routing table had them', () => {
    expect(
      releaseWeights(
        route([
          ['1.0.0', 4500],
          ['1.0.0', 4500],
          ['1.1.0', 1000],
        ]),
      ),
    ).toEqual(
      new Map([
        ['1.0.0', 90],
        ['1.1.0', 10],
      ]),
    );
    expect(releaseWeights(route([['1.0.0', 0]]))).toEqual(new Map());
    expect(releaseWeights(undefined)).toEqual(new Map());
  });
});

describe('adoptRunning', () => {
  it('records the instances, marks the release they serve good ("adopted") and makes it current', async () => {
    const store = openSqliteStore(':memory:');
    const processes = [
      marked(101, '1.1.0'),
      marked(102, '1.1.0'),
      marked(103, '1.0.0'),
      marked(104, '2.0.0', 'gone'),
    ];
    const adopted = await adoptRunning({
      store,
      config,
      processes,
      routes: [
        route([
          ['1.1.0', 5000],
          ['1.1.0', 5000],
          ['1.0.0', 0],
        ]),
      ],
      now: 1_000,
    });
    expect(adopted).toEqual([
      {
        app: 'web',
        env: 'production',
        version: '1.1.0',
        weights: new Map([
          ['1.1.0', 100],
          ['1.0.0', 0],
        ]),
      },
    ]);
    expect(await store.getCurrent('web', 'production')).toBe('1.1.0');
    expect(await store.listReleases('web', 'production')).toMatchObject([
      {
        version: '1.1.0',
        status: 'good',
        reason: 'adopted',
        artifactUrl: 'https://releases.example.com/web-1.1.0.tar.gz',
      },
    ]);
    // Every process gets its record, the app no longer configured included: nothing stops them.
    expect(
      (await store.listInstances()).map((r) => [r.id, r.version, r.port, r.pid, r.pidStart, r.state]),
    ).toEqual([
      ['gone-2.0.0-104', '2.0.0', 40_104, 104, 1040, 'running'],
      ['web-1.0.0-103', '1.0.0', 40_103, 103, 1030, 'running'],
      ['web-1.1.0-101', '1.1.0', 40_101, 101, 1010, 'running'],
      ['web-1.1.0-102', '1.1.0', 40_102, 102, 1020, 'running'],
    ]);
    expect(await store.listAudit(5)).toMatchObject([{ actor: 'ferry up', action: 'adopt' }]);
    await store.close();
  });

  it('leaves a trace even when nothing runs, so the next start resumes from the store', async () => {
    const store = openSqliteStore(':memory:');
    expect(await adoptRunning({ store, config, processes: [], routes: [], now: 1 })).toEqual([]);
    expect(await store.listAudit(5)).toHaveLength(1);
    await store.close();
  });
});
