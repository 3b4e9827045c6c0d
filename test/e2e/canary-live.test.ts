import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AppStatus, DeploymentDetailResponse, StatusResponse } from '../../src/api/types.js';
import { createHarness, type FerryHarness } from '../support/ferry.js';
import { startLoad, type LoadReport } from '../support/load.js';
import { storedAudit } from '../support/stored-records.js';
import { waitFor } from '../support/wait.js';

/** The audit entries of one action (the audit trail has no API route yet). */
function audited(home: string, action: string): Array<{ actor: string; target: string; detail: unknown }> {
  return storedAudit(home, action).map(({ actor, target, detail }) => ({ actor, target, detail }));
}

/**
 * The share of the responses that came from `version` over the next `count` requests of the load
 * (counted by X-Version header). Waits for the requests, never for a fixed time.
 */
async function shareOver(report: LoadReport, version: string, count: number): Promise<number> {
  const before = { requests: report.requests, version: report.versions[version] ?? 0 };
  await waitFor(`${count} more requests`, () => report.requests >= before.requests + count, 60_000);
  const requests = report.requests - before.requests;
  return ((report.versions[version] ?? 0) - before.version) / requests;
}

/** `ferry canary` changes the share of a running canary; `ferry status` shows its live counters. */
describe('a running canary: its share at runtime, its live counters', () => {
  let ferry: FerryHarness;

  beforeAll(async () => {
    // Long pauses: the canary stays in its first step for the whole test unless promoted.
    ferry = await createHarness({
      instances: 2,
      canarySteps: '[{ weight: 10%, pause: 10m }, { weight: 50%, pause: 10m }]',
      analysis: '{ max_error_rate: 5%, min_requests: 20, max_wait: 10m }',
    });
    await ferry.start();
  });

  afterAll(async () => {
    await ferry?.cleanup();
  });

  const app = async (): Promise<AppStatus> => (await ferry.json<StatusResponse>('status', 'hello')).apps[0]!;

  it('refuses when no canary runs, naming the command that starts one; a weight outside 1-100% is a usage error', async () => {
    const none = await ferry.cli('canary', 'hello', '--weight', '50%');
    expect(none.code).toBe(1);
    expect(none.stderr).toContain(
      'no deployment of hello in production is running; no canary share to set; start a canary with: ferry deploy hello VERSION --env production --strategy canary',
    );
    expect(none.stderr).toContain('FERRY_E_ILLEGAL_STATE');
    for (const weight of ['0%', '0', '101%', 'half']) {
      const bad = await ferry.cli('canary', 'hello', '--weight', weight);
      expect(bad.code, weight).toBe(2);
      expect(bad.stderr).toContain('--weight: expected a percentage of traffic like "10%" (1-100)');
    }
    expect((await ferry.cli('canary', 'hello', '--weight', '0%')).stderr).toContain(
      'to take all traffic off the canary, abort it: ferry abort APP',
    );
    expect(audited(ferry.home, 'canary')).toEqual([]);
  });

  it('under load, ferry canary --weight 50% moves the share to about 50%, shown in status, the events and the audit log', async () => {
    const load = startLoad(`http://127.0.0.1:${ferry.appPort}/`, { connections: 8 });
    try {
      await waitFor('load to flow', () => load.report.requests > 200);
      const started = await ferry.cli('deploy', 'hello', '1.1.0', '--strategy', 'canary');
      expect(started.code, started.stderr).toBe(0);
      const stepOne = await waitFor('the first canary step', async () => {
        const status = await app();
        // The step's window opens just after its weights reach the router: wait for both.
        return status.deployment?.phase === 'shifting' && status.canary?.since != null ? status : null;
      });
      expect(stepOne.deployment).toMatchObject({ step: 0, weight: 10, weightOverride: null });
      const atTen = await shareOver(load.report, '1.1.0', 2_000);
      expect(atTen).toBeGreaterThan(0.05);
      expect(atTen).toBeLessThan(0.15);

      const set = await ferry.cli('canary', 'hello', '--weight', '50%');
      expect(set.code, set.stderr).toBe(0);
      expect(set.stdout).toMatch(
        /running: canary step 1\/2 at 50% \(set by api; the step's own weight is 10%\)/,
      );
      // The router has the new weights when the command answers.
      const atFifty = await shareOver(load.report, '1.1.0', 4_000);
      expect(atFifty).toBeGreaterThan(0.4);
      expect(atFifty).toBeLessThan(0.6);

      const status = await app();
      expect(status.deployment).toMatchObject({
        phase: 'shifting',
        step: 0,
        weight: 50,
        weightOverride: { actor: 'api' },
      });
      expect(status.canary).toMatchObject({
        step: 0,
        weight: 50,
        releases: [
          { version: '1.1.0', role: 'canary', weight: 50 },
          { version: '1.0.0', role: 'stable', weight: 50 },
        ],
      });
      // The window reopened at the new share.
      expect(status.canary!.since!).toBeGreaterThan(stepOne.canary!.since!);
      const text = await ferry.cli('status', 'hello');
      expect(text.stdout).toMatch(/canary step 1\/2 at 50% \(set by api; the step's own weight is 10%\)/);
      expect(text.stdout).toMatch(/ {4}1\.1\.0 +canary +50% +requests \d+\/20 /);

      const detail = await ferry.json<DeploymentDetailResponse>('show', status.deployment!.id);
      expect(detail.events.map((e) => e.message)).toContainEqual(
        "canary step 1 set to 50% by api (was 10%, the step's own 10%): its pause of 10m00s and its analysis window start over at 50%",
      );
      expect(audited(ferry.home, 'canary')).toEqual([
        {
          actor: 'api',
          target: 'hello.production',
          detail: { deployment: status.deployment!.id, step: 0, weight: 50, previous: 10 },
        },
      ]);
    } finally {
      const report = await load.stop();
      expect(report.failures, report.samples.join('\n')).toBe(0);
    }
  });

  it('status shows the counters of the step so far growing while load runs, and the healthy instances per release', async () => {
    const load = startLoad(`http://127.0.0.1:${ferry.appPort}/`, { connections: 4 });
    try {
      const first = (await app()).canary!;
      const [canary, stable] = first.releases;
      expect(canary).toMatchObject({ version: '1.1.0', healthy: 2, instances: 2, errors: 0 });
      expect(stable).toMatchObject({ version: '1.0.0', healthy: 2, instances: 2, errors: 0 });
      const grown = await waitFor('the counters to grow', async () => {
        const now = (await app()).canary!;
        const more = now.releases.every((r, n) => r.requests! > first.releases[n]!.requests! + 100);
        return more ? now : null;
      });
      expect(grown.since).toBe(first.since);
      expect(grown.error).toBeNull();
    } finally {
      const report = await load.stop();
      expect(report.failures, report.samples.join('\n')).toBe(0);
    }
  });

  it('a daemon restart keeps the share set; another command is refused once the canary is promoted', async () => {
    await ferry.kill9();
    // `ferry up` prints that it is up once no deployment runs: this canary runs on, so wait for the
    // API to answer with it resumed instead (cleanup kills this daemon).
    const up = ferry.spawnUp();
    const resumed = await waitFor(
      'the daemon to resume the canary',
      async () => {
        if (up.child.exitCode !== null) throw new Error(`ferry up exited:\n${up.output()}`);
        const status = await app();
        return status.canary ? status : null;
      },
      60_000,
    );
    expect(resumed.deployment).toMatchObject({
      phase: 'shifting',
      weight: 50,
      weightOverride: { actor: 'api' },
    });
    expect(resumed.canary).toMatchObject({ weight: 50 });
    const response = await fetch(`http://127.0.0.1:${ferry.appPort}/`);
    expect(response.ok).toBe(true);

    const promoted = await ferry.cli('promote', 'hello', '--wait');
    expect(promoted.code, promoted.stdout + promoted.stderr).toBe(0);
    const after = await app();
    expect(after.canary).toBeNull();
    const refused = await ferry.cli('canary', 'hello', '--weight', '30%');
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('FERRY_E_ILLEGAL_STATE');
  });
});
