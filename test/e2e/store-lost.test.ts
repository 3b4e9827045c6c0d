import { existsSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HistoryResponse, StatusResponse } from '../../src/api/types.js';
import { readPidStart } from '../../src/supervisor/proc.js';
import { createHarness, type FerryHarness } from '../support/ferry.js';
import { waitFor } from '../support/wait.js';

/**
 * The store (control.db: the ledger, deployments, desired states) is lost while the apps run: `ferry
 * up` must not take the data directory for a fresh install (killing what runs and deploying initial_release), but refuse and offer --adopt and
 * --reset.
 */
describe('a lost store', () => {
  let ferry: FerryHarness;

  beforeAll(async () => {
    ferry = await createHarness({ instances: 2 });
    await ferry.start();
    const deployed = await ferry.cli('deploy', 'hello', '1.1.0', '--wait');
    expect(deployed.code, deployed.stdout + deployed.stderr).toBe(0);
  });

  afterAll(async () => {
    await ferry?.cleanup();
  });

  const body = async () => (await fetch(`http://127.0.0.1:${ferry.appPort}/`)).text();
  const loseStore = async () => {
    await ferry.kill9();
    for (const suffix of ['', '-wal', '-shm'])
      rmSync(path.join(ferry.home, `control.db${suffix}`), { force: true });
  };

  it('instances carry an opaque owner marker, never FERRY_HOME', () => {
    const pids = ferry.instancePids();
    expect(pids).toHaveLength(2);
    for (const pid of pids) {
      const environ = readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0');
      expect(environ.some((v) => v.startsWith('FERRY_OWNER='))).toBe(true);
      expect(environ.some((v) => v.startsWith('FERRY_INSTANCE_ID='))).toBe(true);
      expect(environ.filter((v) => v.startsWith('FERRY_HOME='))).toEqual([]);
    }
  });

  it('refuses to start, naming what it found and changing nothing; --adopt takes over what runs', async () => {
    const pids = ferry.instancePids();
    await loseStore();

    const refused = await ferry.upFails();
    expect(refused.code).toBe(1);
    expect(refused.output).toContain('FERRY_E_STORE_LOST');
    expect(refused.output).toContain(
      `2 instance process(es) of this data directory: hello production 1.1.0 (pids ${pids.join(', ')})`,
    );
    expect(refused.output).toContain('routes in router/routes.json: hello.production');
    expect(refused.output).toMatch(/release directories: .*apps\/hello\/production\/releases\/1\.1\.0/);
    expect(refused.output).toMatch(/a live router \(pid \d+\)/);
    expect(refused.output).toContain('ferry up --adopt');
    expect(refused.output).toContain('ferry up --reset');
    expect(refused.output).not.toMatch(/\n\s+at /);
    expect(ferry.instancePids()).toEqual(pids);
    expect(await body()).toContain('hello from 1.1.0');
    expect(existsSync(path.join(ferry.home, 'control.db'))).toBe(false);
    expect(existsSync(path.join(ferry.home, 'daemon.json'))).toBe(true);

    await ferry.start('--adopt');
    expect(ferry.instancePids()).toEqual(pids);
    const status = await ferry.json<StatusResponse>('status', 'hello');
    const app = status.apps[0]!;
    expect(app.current).toBe('1.1.0');
    expect(app.deployment).toBeNull();
    expect(app.instances.map((i) => [i.version, i.pid]).sort()).toEqual(pids.map((pid) => ['1.1.0', pid]));
    const history = await ferry.json<HistoryResponse>('history', 'hello');
    expect(history.deployments).toEqual([]);
    expect(history.releases).toMatchObject([{ version: '1.1.0', status: 'good', reason: 'adopted' }]);
    expect(await body()).toContain('hello from 1.1.0');
    await waitFor('the adopted instances to be healthy', async () =>
      (await ferry.json<StatusResponse>('status', 'hello')).apps[0]!.instances.every(
        (i) => i.health === 'healthy',
      ),
    );
  });

  it('--reset stops what ran and the router, then starts as a fresh install, keeping release directories', async () => {
    const pids = ferry.instancePids();
    const starts = pids.map((pid) => readPidStart(pid));
    await loseStore();
    await ferry.start('--reset');

    pids.forEach((pid, n) =>
      expect(readPidStart(pid) === null || readPidStart(pid) !== starts[n]).toBe(true),
    );
    const app = (await ferry.json<StatusResponse>('status', 'hello')).apps[0]!;
    expect(app.current).toBe('1.0.0');
    expect(app.instances.map((i) => i.version)).toEqual(['1.0.0', '1.0.0']);
    expect(ferry.instancePids()).toEqual(app.instances.map((i) => i.pid).sort((a, b) => a! - b!));
    expect(await body()).toContain('hello from 1.0.0');
    expect(existsSync(path.join(ferry.home, 'apps/hello/production/releases/1.1.0/server.mjs'))).toBe(true);
  });
});

describe('a store that is new but not lost', () => {
  let ferry: FerryHarness;

  afterAll(async () => {
    await ferry?.cleanup();
  });

  it('a first start killed before any deployment is resumed next time, not taken for a lost store', async () => {
    // No initial release: the store holds no deployment, while the router runs with the app's route.
    ferry = await createHarness({ initialRelease: null });
    await ferry.start();
    await ferry.kill9();
    expect(readFileSync(path.join(ferry.home, 'router', 'routes.json'), 'utf8')).toContain(
      'hello.production',
    );
    await ferry.start();
    const app = (await ferry.json<StatusResponse>('status', 'hello')).apps[0]!;
    expect(app.current).toBeNull();
  });
});
