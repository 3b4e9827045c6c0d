import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AppStatus, StatusResponse } from '../../src/api/types.js';
import { createHarness, type FerryHarness } from '../support/ferry.js';
import { startLoad } from '../support/load.js';
import { waitFor } from '../support/wait.js';

/**
 * kill -9 of the daemon at chosen points of a deployment: the apps keep serving through the
 * router meanwhile, and the next daemon re-adopts the instances (no duplicates, no orphans) and
 * finishes the interrupted deployment.
 */
describe('crash recovery', () => {
  let ferry: FerryHarness;

  beforeAll(async () => {
    ferry = await createHarness({
      extraVersions: ['1.1.0-slow', '1.2.0', '1.3.0-slow'],
      health: 'start_period: 5s',
      canarySteps: '[{ weight: 10%, pause: 3s }, { weight: 50%, pause: 3s }]',
    });
    await ferry.start();
  });

  afterAll(async () => {
    await ferry?.cleanup();
  });

  const app = async (): Promise<AppStatus> => (await ferry.json<StatusResponse>('status', 'hello')).apps[0]!;

  async function killAt(
    phase: string,
    start: () => Promise<{ code: number; stderr: string }>,
  ): Promise<void> {
    const started = await start();
    expect(started.code, started.stderr).toBe(0);
    await waitFor(`phase ${phase}`, async () => (await app()).deployment?.phase === phase, 20_000, 20);
    await ferry.kill9();
    await ferry.start();
  }

  async function expectSettled(version: string): Promise<void> {
    const settled = await waitFor(
      `${version} to serve after the restart`,
      async () => {
        const status = await app();
        return status.deployment?.status === 'succeeded' && status.current === version ? status : null;
      },
      60_000,
    );
    // Exactly the configured instances, all of the current release, and no process beyond them.
    expect(settled.instances.map((i) => i.version)).toEqual([version, version]);
    await waitFor('no orphan processes', () => ferry.instancePids().length === 2, 15_000);
    expect(ferry.instancePids()).toEqual(settled.instances.map((i) => i.pid).sort((a, b) => a! - b!));
  }

  it('finishes deployments interrupted mid blue-green, mid canary and mid rollback, failing no request', async () => {
    const load = startLoad(`http://127.0.0.1:${ferry.appPort}/`, { connections: 4 });

    await killAt('starting', () => ferry.cli('deploy', 'hello', '1.1.0-slow'));
    await expectSettled('1.1.0-slow');

    await killAt('shifting', () => ferry.cli('deploy', 'hello', '1.2.0', '--strategy', 'canary'));
    await expectSettled('1.2.0');

    await killAt('starting', () => ferry.cli('rollback', 'hello', '--to', '1.1.0-slow'));
    await expectSettled('1.1.0-slow');

    // Idle: kill -9 with nothing running, twice in a row; the instances are adopted, not restarted.
    const before = ferry.instancePids();
    await ferry.kill9();
    await ferry.start();
    await ferry.kill9();
    await ferry.start();
    expect(ferry.instancePids()).toEqual(before);
    expect((await app()).instances.every((i) => i.health === 'healthy' || i.health === 'starting')).toBe(
      true,
    );

    const report = await load.stop();
    expect(report.failures, report.samples.join('\n')).toBe(0);
    expect(report.versions['1.2.0']).toBeGreaterThan(0);
  }, 600_000);

  it('recovers the same way every time: a kill during the canary restarts its current step, and --wait follows through', async () => {
    // A canary step passes only on enough requests: traffic flows throughout.
    const load = startLoad(`http://127.0.0.1:${ferry.appPort}/`, { connections: 4 });
    const waiting = ferry.cli('deploy', 'hello', '1.3.0-slow', '--strategy', 'canary', '--wait');
    await killAt('shifting', () => Promise.resolve({ code: 0, stderr: '' }));
    const status = await app();
    expect(
      status.deployment?.phase === 'shifting' ||
        status.deployment?.phase === 'retiring' ||
        status.deployment?.status === 'succeeded',
    ).toBe(true);
    await expectSettled('1.3.0-slow');
    const waited = await waiting;
    expect(waited.code, waited.stdout + waited.stderr).toBe(0);
    expect(waited.stdout).toMatch(
      /succeeded: 1\.2\.0 -> 1\.3\.0-slow|succeeded: 1\.1\.0-slow -> 1\.3\.0-slow/,
    );
    const shown = await ferry.cli('show', (await app()).deployment!.id);
    expect(shown.stdout).toContain('resumed after a daemon restart in phase shifting');
    const report = await load.stop();
    expect(report.failures, report.samples.join('\n')).toBe(0);
  }, 300_000);
});
