import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AppStatus, StatusResponse } from '../../src/api/types.js';
import { createHarness, type FerryHarness } from '../support/ferry.js';
import { startLoad } from '../support/load.js';
import { waitFor } from '../support/wait.js';

/**
 * kill -9 of the daemon at chosen points of a deployment: the apps keep serving through the
 * router meanwhile, and the next daemon re-adopts the instances (no duplicates, no orphans) and
 * finishes the interrupted deployment. Every point is one the test holds the deployment in (a gated
 * release that starts only when the gate opens, canary steps that end when the test promotes), never
 * a window it hopes to hit.
 */
describe('crash recovery', () => {
  let ferry: FerryHarness;

  beforeAll(async () => {
    ferry = await createHarness({
      extraVersions: ['1.1.0-gated', '1.2.0', '1.3.0'],
      // A gated release waits for its gate as long as the test wants: its failing checks do not
      // count and its deadline is far away.
      health: 'start_period: 10m',
      healthDeadline: '10m',
      canarySteps: '[{ weight: 10%, pause: 10m }, { weight: 50%, pause: 10m }]',
    });
    await ferry.start();
  });

  afterAll(async () => {
    await ferry?.cleanup();
  });

  const app = async (): Promise<AppStatus> => (await ferry.json<StatusResponse>('status', 'hello')).apps[0]!;

  /**
   * Starts a deployment, waits for it to reach `phase` (where it stays until the test moves it on),
   * kills the daemon and starts a new one, which resumes it in the same phase. Returns the time of
   * the kill.
   */
  async function killAt(
    phase: string,
    start: () => Promise<{ code: number; stderr: string }>,
  ): Promise<number> {
    const started = await start();
    expect(started.code, started.stderr).toBe(0);
    const held = await waitFor(`phase ${phase}`, async () => {
      const { deployment } = await app();
      return deployment?.phase === phase ? deployment : null;
    });
    const killedAt = Date.now();
    await ferry.kill9();
    await ferry.startServing();
    expect((await app()).deployment).toMatchObject({
      id: held.id,
      status: 'running',
      phase,
      step: held.step,
    });
    return killedAt;
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

  async function promote(): Promise<void> {
    const promoted = await ferry.cli('promote', 'hello');
    expect(promoted.code, promoted.stderr).toBe(0);
  }

  it('finishes deployments interrupted mid blue-green, mid canary and mid rollback, failing no request', async () => {
    const load = startLoad(`http://127.0.0.1:${ferry.appPort}/`, { connections: 4 });

    ferry.closeGate();
    await killAt('starting', () => ferry.cli('deploy', 'hello', '1.1.0-gated'));
    ferry.openGate();
    await expectSettled('1.1.0-gated');

    await killAt('shifting', () => ferry.cli('deploy', 'hello', '1.2.0', '--strategy', 'canary'));
    await promote();
    await expectSettled('1.2.0');

    // The 1.1.0-gated instances are gone: the rollback starts new ones, which wait for the gate.
    ferry.closeGate();
    await killAt('starting', () => ferry.cli('rollback', 'hello', '--to', '1.1.0-gated'));
    ferry.openGate();
    await expectSettled('1.1.0-gated');

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
    // Traffic flows throughout: the canary is analysed, and no request may fail.
    const load = startLoad(`http://127.0.0.1:${ferry.appPort}/`, { connections: 4 });
    const from = (await app()).current;
    const waiting = ferry.cli('deploy', 'hello', '1.3.0', '--strategy', 'canary', '--wait');
    const killedAt = await killAt('shifting', () => Promise.resolve({ code: 0, stderr: '' }));
    const resumed = (await app()).deployment!;
    expect(resumed).toMatchObject({ phase: 'shifting', step: 0, weight: 10 });
    // The step restarted from its beginning with the new daemon.
    expect(resumed.phaseSince).toBeGreaterThan(killedAt);
    await promote();
    await expectSettled('1.3.0');
    const waited = await waiting;
    expect(waited.code, waited.stdout + waited.stderr).toBe(0);
    expect(waited.stdout).toContain(`succeeded: ${from} -> 1.3.0`);
    const shown = await ferry.cli('show', resumed.id);
    expect(shown.stdout).toContain('resumed after a daemon restart in phase shifting');
    const report = await load.stop();
    expect(report.failures, report.samples.join('\n')).toBe(0);
  }, 300_000);
});
