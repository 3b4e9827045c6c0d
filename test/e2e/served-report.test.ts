import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type {
  AppStatus,
  Deployment,
  DeploymentDetailResponse,
  HistoryResponse,
  ServedReport,
  StatusResponse,
} from '../../src/api/types.js';
import { createHarness, type FerryHarness } from '../support/ferry.js';
import { startLoad, type LoadReport } from '../support/load.js';
import { waitFor } from '../support/wait.js';

/**
 * The served-request report of each deployment, checked against what a load generator counted
 * through the real router. The load runs only inside each deployment's window (it starts once the
 * deployment runs and stops before it ends: canary steps that wait for an operator, a gated release
 * that waits for the test), so the two counts must be equal, request for request.
 */
describe('the served-request report of a deployment, under real load', () => {
  let ferry: FerryHarness;

  beforeAll(async () => {
    ferry = await createHarness({
      instances: 2,
      extraVersions: ['1.2.0-gated'],
      // Steps that end only when the test promotes; an analysis that never judges in time.
      canarySteps: '[{ weight: 10%, pause: 10m }, { weight: 50%, pause: 10m }]',
      analysis: '{ max_error_rate: 5%, min_requests: 100000, max_wait: 10m }',
      healthDeadline: '10m',
      router: '{ hold_timeout: 300ms }',
    });
    await ferry.start();
  });

  afterAll(async () => {
    await ferry?.cleanup();
  });

  const app = async (): Promise<AppStatus> => (await ferry.json<StatusResponse>('status', 'hello')).apps[0]!;

  async function deployment(id: string): Promise<Deployment> {
    return (await ferry.json<DeploymentDetailResponse>('show', id)).deployment;
  }

  /** Starts a deployment and waits until it is in `phase`; its id. */
  async function deployUntil(phase: string, ...args: string[]): Promise<string> {
    const started = await ferry.cli('deploy', 'hello', ...args);
    expect(started.code, started.stderr).toBe(0);
    const running = await waitFor(`the deployment to reach ${phase}`, async () => {
      const d = (await app()).deployment;
      return d?.phase === phase && d.status === 'running' ? d : null;
    });
    return running.id;
  }

  async function more(load: { report: LoadReport }, requests: number): Promise<void> {
    const target = load.report.requests + requests;
    await waitFor(`${requests} more requests`, () => load.report.requests >= target, 120_000);
  }

  function releaseOf(report: ServedReport, version: string) {
    return report.releases.find((r) => r.version === version);
  }

  function stepsSum(report: ServedReport): number {
    return report.steps.reduce((n, s) => n + s.served, 0);
  }

  it('a canary under load, through a share change and a daemon kill -9: served equals what the load counted, 0 failed', async () => {
    const id = await deployUntil('shifting', '1.1.0', '--strategy', 'canary');
    const load = startLoad(`http://127.0.0.1:${ferry.appPort}/`, { connections: 8 });
    let report: LoadReport;
    try {
      await more(load, 1_500);
      const set = await ferry.cli('canary', 'hello', '--weight', '50%');
      expect(set.code, set.stderr).toBe(0);
      await more(load, 1_500);
      // The daemon dies under load; the router counts on; the next daemon resumes the report.
      await ferry.kill9();
      await more(load, 500);
      await ferry.startServing();
      await more(load, 1_000);
    } finally {
      report = await load.stop();
    }
    expect(report.failures, report.samples.join('\n')).toBe(0);
    const promoted = await ferry.cli('promote', 'hello', '--wait');
    expect(promoted.code, promoted.stdout + promoted.stderr).toBe(0);

    const served = (await deployment(id)).served!;
    console.log(
      `served-report: load counted ${report.requests} (${JSON.stringify(report.versions)}); report ${served.served} (${served.releases.map((r) => `${r.version} ${r.served}`).join(', ')})`,
    );
    expect(served).toMatchObject({ final: true, failed: 0, routerRestarts: 0, error: null });
    expect(served.served).toBe(report.requests);
    expect(releaseOf(served, '1.1.0')?.served).toBe(report.versions['1.1.0']);
    expect(releaseOf(served, '1.0.0')?.served).toBe(report.versions['1.0.0']);
    expect(stepsSum(served)).toBe(served.served);
    const shares = served.steps.filter((s) => s.phase === 'shifting').map((s) => [s.weight, s.served > 0]);
    expect(shares).toEqual([
      [10, true],
      [50, true],
    ]);

    const show = await ferry.cli('show', id);
    expect(show.stdout).toContain(`served ${served.served.toLocaleString('en-US')} requests, 0 failed`);
    expect(show.stdout).toMatch(/canary step 1 at 50% .* served [\d,]+ requests, 0 failed/);
    const history = await ferry.cli('history', 'hello');
    expect(history.stdout).toContain(`served ${served.served.toLocaleString('en-US')} requests, 0 failed`);

    // Kept with the deployment: an old deployment still has it after a restart.
    await ferry.kill9();
    await ferry.start();
    expect((await deployment(id)).served).toEqual(served);
    const listed = await ferry.json<HistoryResponse>('history', 'hello');
    expect(listed.deployments.find((d) => d.id === id)?.served).toEqual(served);
  }, 300_000);

  it('a release that answers 500s: each is counted failed, as a 5xx of that release', async () => {
    const id = await deployUntil('shifting', '2.0.1-errors', '--strategy', 'canary');
    const load = startLoad(`http://127.0.0.1:${ferry.appPort}/`, { connections: 8 });
    let report: LoadReport;
    try {
      await waitFor('50 failed requests', () => load.report.failures >= 50, 120_000);
    } finally {
      report = await load.stop();
    }
    const aborted = await ferry.cli('abort', 'hello', '--wait');
    expect(aborted.stdout + aborted.stderr).toMatch(/aborted|rolled-back/);

    const served = (await deployment(id)).served!;
    expect(served).toMatchObject({
      final: true,
      served: report.requests,
      failed: report.failures,
      failures: { serverError: report.failures, reset: 0, timeout: 0, held: 0 },
    });
    expect(releaseOf(served, '2.0.1-errors')).toMatchObject({
      served: report.versions['2.0.1-errors'],
      failed: report.failures,
    });
    expect(releaseOf(served, '1.1.0')).toMatchObject({ served: report.versions['1.1.0'], failed: 0 });
    const show = await ferry.cli('show', id);
    expect(show.stdout).toContain(
      `served ${report.requests.toLocaleString('en-US')} requests, ${report.failures} failed: ${report.failures} 5xx from the app`,
    );
  }, 300_000);

  it('an all-at-once deployment whose release never turns healthy: requests held, then 503, counted as held', async () => {
    // The old release is stopped first; the gated one never passes its check while the gate is closed.
    const id = await deployUntil('starting', '1.2.0-gated', '--strategy', 'all-at-once');
    const load = startLoad(`http://127.0.0.1:${ferry.appPort}/`, { connections: 8 });
    let report: LoadReport;
    try {
      await waitFor('16 requests answered 503', () => load.report.failures >= 16, 60_000);
    } finally {
      report = await load.stop();
    }
    expect(report.samples[0]).toContain('HTTP 503');
    expect(report.failures).toBe(report.requests);
    const aborted = await ferry.cli('abort', 'hello', '--wait');
    expect(aborted.stdout + aborted.stderr).toMatch(/aborted|rolled-back/);
    const served = (await deployment(id)).served!;
    expect(served).toMatchObject({
      final: true,
      served: report.requests,
      failed: report.requests,
      failures: { serverError: 0, reset: 0, timeout: 0, held: report.requests },
      releases: [],
    });
    expect(served.steps.find((s) => s.phase === 'starting')).toMatchObject({ failed: report.requests });
    expect((await ferry.cli('history', 'hello')).stdout).toContain(
      `${report.requests} held then 503 (no healthy instance)`,
    );
  }, 300_000);
});
