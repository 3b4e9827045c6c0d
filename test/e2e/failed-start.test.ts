import { existsSync, readFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import type { StatusResponse } from '../../src/api/types.js';
import { findRouterProcesses } from '../../src/router/state-dir.js';
import { createHarness, type FerryHarness } from '../support/ferry.js';
import { storedValues } from '../support/stored-records.js';
import { waitFor } from '../support/wait.js';

/** Every process of the data directory's router: its keeper, workers and spare. */
function routerPids(home: string): number[] {
  return findRouterProcesses(path.join(home, 'router')).sort((a, b) => a - b);
}

/** Takes a TCP port on 127.0.0.1 the way another program would. */
async function occupy(port: number): Promise<net.Server> {
  const server = net.createServer((socket) => socket.destroy());
  await new Promise<void>((resolve, reject) =>
    server.once('error', reject).listen(port, '127.0.0.1', resolve),
  );
  return server;
}

/** The deployments and their events (control.db) and the host's instances (ferry.db), exactly as stored. */
function storedDeployments(home: string): unknown {
  const db = new Database(path.join(home, 'ferry.db'), { readonly: true });
  try {
    return {
      deployments: storedValues(home, '/deployments/'),
      events: storedValues(home, '/events/'),
      instances: db.prepare('SELECT id, pid, state FROM instances ORDER BY id').all(),
    };
  } finally {
    db.close();
  }
}

/** A start that fails leaves nothing behind and has resumed nothing. */
describe('a failed start', () => {
  let ferry: FerryHarness | undefined;
  let blocker: net.Server | undefined;

  afterEach(async () => {
    await new Promise((resolve) => (blocker ? blocker.close(resolve) : resolve(undefined)));
    blocker = undefined;
    await ferry?.cleanup();
  });

  it('API port taken on a new data directory: exit 1 FERRY_E_PORT_IN_USE, and no router is left', async () => {
    ferry = await createHarness();
    blocker = await occupy(ferry.apiPort);
    const failed = await ferry.upFails();
    expect(failed.code).toBe(1);
    expect(failed.output).toContain('FERRY_E_PORT_IN_USE');
    expect(failed.output).toContain(`127.0.0.1:${ferry.apiPort}`);
    expect(failed.output).not.toMatch(/\n\s+at /);
    expect(routerPids(ferry.home)).toEqual([]);
    expect(ferry.instancePids()).toEqual([]);
    expect(existsSync(path.join(ferry.home, 'daemon.json'))).toBe(false);
  });

  it('API port taken after a crash mid-deployment: the deployment is still as it was, the router serves on', async () => {
    // The gated release stays starting until the test opens its gate: the crash is mid-deployment
    // however long each step takes here.
    ferry = await createHarness({
      extraVersions: ['1.1.0-gated'],
      health: 'start_period: 10m',
      healthDeadline: '10m',
    });
    await ferry.start();
    const deploy = await ferry.cli('deploy', 'hello', '1.1.0-gated');
    expect(deploy.code, deploy.stderr).toBe(0);
    await waitFor('the deployment to start instances and the router its spare', async () => {
      const status = await ferry!.json<StatusResponse>('status');
      return status.apps[0]!.deployment?.phase === 'starting' && status.router.spare?.state === 'up';
    });
    await ferry.kill9();
    const routers = routerPids(ferry.home);
    // The keeper, its worker and its spare.
    expect(routers).toHaveLength(3);
    const stored = storedDeployments(ferry.home);
    const daemonJson = readFileSync(path.join(ferry.home, 'daemon.json'), 'utf8');

    blocker = await occupy(ferry.apiPort);
    const failed = await ferry.upFails();
    expect(failed.code).toBe(1);
    expect(failed.output).toContain('FERRY_E_PORT_IN_USE');
    expect(storedDeployments(ferry.home)).toEqual(stored);
    expect(routerPids(ferry.home)).toEqual(routers);
    expect(readFileSync(path.join(ferry.home, 'daemon.json'), 'utf8')).toBe(daemonJson);
    expect(await (await fetch(`http://127.0.0.1:${ferry.appPort}/`)).text()).toContain('hello from 1.0.0');

    // Once the port is free, the next start resumes the deployment and finishes it (it says it is
    // up once no deployment runs).
    await new Promise((resolve) => blocker!.close(resolve));
    blocker = undefined;
    ferry.openGate();
    await ferry.start();
    const app = (await ferry.json<StatusResponse>('status')).apps[0]!;
    expect(app.current).toBe('1.1.0-gated');
    expect(app.deployment).toMatchObject({ id: deploy.stdout.split(' ')[0], status: 'succeeded' });
  });
});
