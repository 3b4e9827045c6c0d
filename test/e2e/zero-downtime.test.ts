import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HistoryResponse, StatusResponse } from '../../src/api/types.js';
import { createHarness, type FerryHarness } from '../support/ferry.js';
import { startLoad } from '../support/load.js';
import { waitFor } from '../support/wait.js';

/**
 * The promise users rely on: under continuous keep-alive load through the router, blue-green and
 * canary deploys, rollbacks and kill -9 of the daemon fail no request.
 */
describe('zero failed requests on one host', () => {
  let ferry: FerryHarness;

  beforeAll(async () => {
    ferry = await createHarness({ extraVersions: ['1.2.0', '1.3.0'] });
    await ferry.start();
  });

  afterAll(async () => {
    await ferry?.cleanup();
  });

  const current = async () => (await ferry.json<StatusResponse>('status', 'hello')).apps[0]!;

  async function deploy(version: string, ...flags: string[]): Promise<void> {
    const result = await ferry.cli('deploy', 'hello', version, '--wait', ...flags);
    expect(result.code, `deploy ${version}: ${result.stdout}${result.stderr}`).toBe(0);
  }

  async function waitForDaemonUp(): Promise<void> {
    await waitFor('the daemon API', async () => (await ferry.cli('status')).code === 0, 30_000);
  }

  it('20 blue-green deploys, 5 canary deploys, 5 rollbacks and 3 daemon kill -9 fail no request', async () => {
    const load = startLoad(`http://127.0.0.1:${ferry.appPort}/`, { connections: 8 });
    await waitFor('load to flow', () => load.report.requests > 200);

    const versions = ['1.1.0', '1.2.0', '1.3.0', '1.0.0'];
    for (let i = 0; i < 20; i++) await deploy(versions[i % versions.length]!);
    expect((await current()).current).toBe('1.0.0');

    for (let i = 0; i < 5; i++) await deploy(versions[i % versions.length]!, '--strategy', 'canary');
    const afterCanaries = (await current()).current;
    expect(afterCanaries).toBe('1.1.0');

    // Each rollback marks the release it leaves rolled-back: successive ones walk back through the
    // good releases, never returning to one they left; then only a named release is a target.
    for (const expected of ['1.0.0', '1.3.0', '1.2.0']) {
      const result = await ferry.cli('rollback', 'hello', '--wait');
      expect(result.code, result.stdout + result.stderr).toBe(0);
      expect((await current()).current).toBe(expected);
    }
    const exhausted = await ferry.cli('rollback', 'hello');
    expect(exhausted.stderr).toContain('FERRY_E_NOTHING_TO_ROLL_BACK_TO');
    for (const named of ['1.3.0', '1.0.0']) {
      const result = await ferry.cli('rollback', 'hello', '--to', named, '--wait');
      expect(result.code, result.stdout + result.stderr).toBe(0);
      expect((await current()).current).toBe(named);
    }

    // kill -9 of the daemon mid-deployment, three times: the next daemon finishes the deployment.
    for (const version of ['1.2.0', '1.3.0', '1.0.0']) {
      const started = await ferry.cli('deploy', 'hello', version);
      expect(started.code, started.stderr).toBe(0);
      await ferry.kill9();
      await ferry.start();
      await waitForDaemonUp();
      await waitFor(
        `${version} to be current after the restart`,
        async () =>
          (await current()).current === version && (await current()).deployment?.status === 'succeeded',
        60_000,
      );
    }

    const report = await load.stop();
    console.log(
      `zero-downtime: ${report.requests} requests in ${report.durationMs} ms (${Math.round((report.requests * 1000) / report.durationMs)}/s), ${report.failures} failed`,
    );
    expect(report.failures, `failures: ${report.samples.join('\n')}`).toBe(0);
    expect(report.requests).toBeGreaterThan(1000);
    // Each deployment's own report agrees: none failed a request, and together (their windows are
    // apart, all inside the load) they served at most what the load sent.
    const { deployments } = await ferry.json<HistoryResponse>('history', 'hello', '--limit', '100');
    const reports = deployments.slice(0, 33).map((d) => d.served!);
    expect(reports.every((r) => r.final && r.failed === 0)).toBe(true);
    expect(reports.reduce((n, r) => n + r.served, 0)).toBeLessThanOrEqual(report.requests);
    const status = await current();
    expect(status.instances.filter((i) => i.version === '1.0.0')).toHaveLength(2);
    expect(ferry.instancePids()).toHaveLength(2);
  }, 900_000);

  it('2.0.0-unhealthy never receives a request and is rolled back by itself', async () => {
    const load = startLoad(`http://127.0.0.1:${ferry.appPort}/`, { connections: 4 });
    const result = await ferry.cli('deploy', 'hello', '2.0.0-unhealthy', '--wait');
    const report = await load.stop();
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(/rolled-back/);
    expect(result.stdout).toMatch(/503/);
    expect(report.versions['2.0.0-unhealthy'] ?? 0).toBe(0);
    expect(report.failures).toBe(0);
    const history = await ferry.json<HistoryResponse>('history', 'hello');
    expect(history.releases.find((r) => r.version === '2.0.0-unhealthy')?.status).toBe('bad');
    expect(history.deployments[0]?.failure?.evidence?.health).toMatch(/503/);
    expect(history.deployments[0]?.failure?.evidence?.logTail).toBeDefined();
  });

  it('2.0.1-errors is rolled back during its canary, the ledger marks it bad, and rollback never picks it', async () => {
    const load = startLoad(`http://127.0.0.1:${ferry.appPort}/`, { connections: 4 });
    const result = await ferry.cli('deploy', 'hello', '2.0.1-errors', '--strategy', 'canary', '--wait');
    await load.stop();
    expect(result.code, result.stdout).toBe(1);
    expect(result.stdout).toMatch(/FERRY_E_ANALYSIS_FAILED/);
    const history = await ferry.json<HistoryResponse>('history', 'hello');
    expect(history.releases.find((r) => r.version === '2.0.1-errors')?.status).toBe('bad');
    expect(history.deployments[0]?.status).toBe('rolled-back');
    expect((await current()).current).toBe('1.0.0');
    // A rollback picks the last good release, never a bad one.
    const rollback = await ferry.cli('rollback', 'hello', '--wait');
    expect(rollback.code).toBe(0);
    const after = (await current()).current;
    expect(['2.0.0-unhealthy', '2.0.1-errors']).not.toContain(after);
  });
});
