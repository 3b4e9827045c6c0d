import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AppStatus, StatusResponse } from '../../src/api/types.js';
import { createHarness, type FerryHarness } from '../support/ferry.js';
import { startLoad } from '../support/load.js';
import { waitFor } from '../support/wait.js';

/**
 * `ferry restart APP` replaces the serving release's instances one at a time, each new one healthy
 * before an old one drains: under keep-alive load through the router, no request fails. Deploying
 * the serving version again takes --force (and then restarts the same way).
 */
describe('ferry restart', () => {
  let ferry: FerryHarness;

  beforeAll(async () => {
    ferry = await createHarness({ instances: 2, extraVersions: ['1.2.0-gated'] });
    await ferry.start();
  });

  afterAll(async () => {
    await ferry?.cleanup();
  });

  const hello = async (): Promise<AppStatus> =>
    (await ferry.json<StatusResponse>('status', 'hello')).apps[0]!;
  const pids = async () => (await hello()).instances.map((i) => i.pid!).sort((a, b) => a - b);

  it('replaces every instance three times under load with 0 failed requests', async () => {
    const load = startLoad(`http://127.0.0.1:${ferry.appPort}/`, { connections: 8 });
    await waitFor('load to flow', () => load.report.requests > 200);
    const seen = new Set(await pids());
    for (let round = 0; round < 3; round++) {
      const result = await ferry.cli('restart', 'hello', '--wait');
      expect(result.code, result.stdout + result.stderr).toBe(0);
      expect(result.stdout).toMatch(/batch 1\/2: 1 new instance\(s\) healthy; 1 old one\(s\) draining/);
      expect(result.stdout).toMatch(/restart succeeded: 2 new instance\(s\) of 1\.0\.0 serve hello/);
      const now = await pids();
      expect(now).toHaveLength(2);
      for (const pid of now) expect(seen.has(pid), `pid ${pid} ran before round ${round + 1}`).toBe(false);
      for (const pid of now) seen.add(pid);
    }
    const report = await load.stop();
    console.log(`restart: ${report.requests} requests during 3 restarts, ${report.failures} failed`);
    expect(report.failures, report.samples.join('\n')).toBe(0);
    expect(report.requests).toBeGreaterThan(1000);
    expect(ferry.instancePids()).toHaveLength(2);
    expect((await hello()).current).toBe('1.0.0');
  }, 300_000);

  it('deploying the serving version is refused without --force; with it, it deploys it again by restarting', async () => {
    const refused = await ferry.cli('deploy', 'hello', '1.0.0');
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('1.0.0 already serves hello in production; nothing to deploy');
    expect(refused.stderr).toContain('ferry restart hello --env production');
    const before = await pids();
    const load = startLoad(`http://127.0.0.1:${ferry.appPort}/`, { connections: 4 });
    await waitFor('load to flow', () => load.report.requests > 100);
    const forced = await ferry.cli('deploy', 'hello', '1.0.0', '--force', '--wait');
    const report = await load.stop();
    expect(forced.code, forced.stdout + forced.stderr).toBe(0);
    expect(report.failures, report.samples.join('\n')).toBe(0);
    expect((await pids()).some((pid) => before.includes(pid))).toBe(false);
  }, 120_000);

  it('names what it cannot restart', async () => {
    const unknown = await ferry.cli('restart', 'nope');
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('FERRY_E_APP_UNKNOWN');
    // A gated release holds its deployment in its start until the test opens the gate.
    const running = await ferry.cli('deploy', 'hello', '1.2.0-gated');
    expect(running.code, running.stderr).toBe(0);
    const busy = await ferry.cli('restart', 'hello');
    expect(busy.code).toBe(1);
    expect(busy.stderr).toContain('FERRY_E_DEPLOYMENT_IN_PROGRESS');
    ferry.openGate();
    await waitFor(
      'the deployment to end',
      async () => (await hello()).deployment?.status === 'succeeded',
      60_000,
    );
  }, 120_000);
});
