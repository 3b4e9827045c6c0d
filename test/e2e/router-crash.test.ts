import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StatusResponse } from '../../src/api/types.js';
import { findRouterProcesses } from '../../src/router/state-dir.js';
import { startSteadyLoad } from '../../src/router/test-support/steady-load.js';
import { createHarness, type FerryHarness } from '../support/ferry.js';
import { waitFor } from '../support/wait.js';

/**
 * The router's own crashes, through `ferry up`: a worker or the keeper killed with -9 under load
 * refuses no connection and fails at most the requests in flight on the dead process; the daemon
 * sees the keeper replaced (status, restarts) and, when nothing of the router is left, brings it back.
 */
describe('router crashes under ferry up', () => {
  let ferry: FerryHarness;

  beforeAll(async () => {
    ferry = await createHarness();
    await ferry.start();
  });

  afterAll(async () => {
    await ferry?.cleanup();
  });

  const status = (): Promise<StatusResponse> => ferry.json<StatusResponse>('status');
  const routerDir = (): string => path.join(ferry.home, 'router');

  it('a worker and then the keeper killed with -9 under load: no connection refused, status shows the restarts', async () => {
    const before = (await status()).router;
    expect(before).toMatchObject({ state: 'running', restarts: 0, error: null });
    expect(before.workers).toHaveLength(1);
    const load = startSteadyLoad(`http://127.0.0.1:${ferry.appPort}/`, { keepAlive: 4, fresh: 4 });
    await load.succeeded(300);

    process.kill(before.workers[0]!.pid!, 'SIGKILL');
    const afterWorker = await waitFor('the worker to be replaced', async () => {
      const r = (await status()).router;
      return r.workers[0]!.pid !== before.workers[0]!.pid && r.workers.every((w) => w.state === 'up')
        ? r
        : null;
    });
    expect(afterWorker.workers[0]!.restarts).toBe(1);
    await load.succeeded(300);

    process.kill(before.pid!, 'SIGKILL');
    const afterKeeper = await waitFor(
      'the daemon to see a new keeper',
      async () => {
        const r = (await status()).router;
        return r.pid !== before.pid && r.state === 'running' && r.workers.every((w) => w.state === 'up')
          ? r
          : null;
      },
      60_000,
    );
    expect(afterKeeper.restarts).toBe(1);
    await load.succeeded(500);
    const report = await load.stop();
    expect(report.refused, report.failures.join('\n')).toBe(0);
    expect(report.failed, report.failures.join('\n')).toBeLessThanOrEqual(16);
  });

  it('when every router process is killed, the daemon starts a new router and says so', async () => {
    const before = (await status()).router;
    for (const pid of findRouterProcesses(routerDir())) process.kill(pid, 'SIGKILL');
    await waitFor(
      'a new router serving the app',
      async () => {
        const r = (await status()).router;
        const answer = await fetch(`http://127.0.0.1:${ferry.appPort}/`).catch(() => null);
        return r.pid !== before.pid && r.state === 'running' && answer?.status === 200;
      },
      60_000,
    );
    expect((await status()).router.restarts).toBe(before.restarts + 1);
    await waitFor('the daemon to report it', () =>
      ferry.output.includes('does not answer; bringing it back'),
    );
    await waitFor('the daemon to report it back', () => ferry.output.includes('the router serves again'));
    // Deployments go on against the new router.
    const deployed = await ferry.cli('deploy', 'hello', '1.1.0', '--wait');
    expect(deployed.code, deployed.stderr).toBe(0);
  });
});
