import { existsSync, readdirSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type {
  AppStatus,
  DeploymentDetailResponse,
  HistoryResponse,
  StatusResponse,
} from '../../src/api/types.js';
import { createHarness, type FerryHarness } from '../support/ferry.js';
import { startLoad } from '../support/load.js';
import { waitFor } from '../support/wait.js';

function readIfExists(file: string): string | null {
  return existsSync(file) ? readFileSync(file, 'utf8') : null;
}

/** all-at-once restarts, hooks and release pruning, end to end. */
describe('all-at-once, hooks and keep_releases', () => {
  let ferry: FerryHarness;

  beforeAll(async () => {
    ferry = await createHarness({
      strategy: 'all-at-once',
      extraVersions: ['1.2.0', '1.3.0', '1.4.0', '1.5.0', '1.6.0-nohook'],
      appExtra: `    keep_releases: 3
    hooks:
      before_start: ['echo "$FERRY_APP $FERRY_ENV $FERRY_VERSION $PWD" >> ../../hooks.log', 'case "$FERRY_VERSION" in *nohook*) exit 7;; esac']
      after_switch: ['echo "switched to $FERRY_VERSION" >> ../../hooks.log']
      success: ['cat > "../../success-$FERRY_TO_VERSION.log"']
      failure: ['{ echo "$FERRY_STATUS from $FERRY_FROM_VERSION, serving $FERRY_VERSION"; cat; } > "../../failure-$FERRY_TO_VERSION.log"']
`,
    });
    await ferry.start();
  });

  afterAll(async () => {
    await ferry?.cleanup();
  });

  const hooksLog = () => readFileSync(path.join(ferry.home, 'apps/hello/production/hooks.log'), 'utf8');
  const releasesDir = () => path.join(ferry.home, 'apps/hello/production/releases');

  it('all-at-once restarts fail no request: the router holds them while no instance runs', async () => {
    const load = startLoad(`http://127.0.0.1:${ferry.appPort}/`, { connections: 4 });
    for (const version of ['1.1.0', '1.2.0', '1.3.0']) {
      const result = await ferry.cli('deploy', 'hello', version, '--wait');
      expect(result.code, result.stdout + result.stderr).toBe(0);
    }
    const report = await load.stop();
    expect(report.failures, report.samples.join('\n')).toBe(0);
    expect(report.versions['1.3.0']).toBeGreaterThan(0);
  });

  it('runs before_start in the new release dir and after_switch inside the deployment, with FERRY_* variables', () => {
    // after_switch runs before the deployment ends: it is in the log when `--wait` returns.
    expect(hooksLog()).toContain('switched to 1.3.0');
    expect(hooksLog()).toContain(`hello production 1.2.0 ${path.join(releasesDir(), '1.2.0')}`);
  });

  it('a failing before_start hook fails the deployment with its line and status, and changes nothing', async () => {
    const result = await ferry.cli('deploy', 'hello', '1.6.0-nohook', '--wait');
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(/FERRY_E_HOOK_FAILED: before_start hook failed: case .*: exit status 7/);
    const status = await ferry.json<StatusResponse>('status');
    expect(status.apps[0]!.current).toBe('1.3.0');
    expect(status.apps[0]!.instances.map((i) => i.version)).toEqual(['1.3.0', '1.3.0']);
  });

  it('success and failure hooks get the deployment log on stdin', async () => {
    const appDir = path.join(ferry.home, 'apps/hello/production');
    const success = await waitFor('the success hook', () =>
      readIfExists(path.join(appDir, 'success-1.3.0.log')),
    );
    expect(success).toMatch(/deploy hello 1\.3\.0 in production: succeeded\n$/);
    const failure = await waitFor('the failure hook', () =>
      readIfExists(path.join(appDir, 'failure-1.6.0-nohook.log')),
    );
    expect(failure).toMatch(/^failed from 1\.3\.0, serving 1\.3\.0\n/);
    expect(failure).toContain('before_start hook failed');
  });

  it('keeps keep_releases releases on disk, never removing the current or the last good one', async () => {
    for (const version of ['1.4.0', '1.5.0'])
      expect((await ferry.cli('deploy', 'hello', version, '--wait')).code).toBe(0);
    // Pruning follows the end of the deployment, which --wait reports first.
    const kept = await waitFor('pruning to keep_releases', () => {
      const names = readdirSync(releasesDir()).filter((name) => !name.startsWith('.') && name !== 'current');
      return names.length <= 3 ? names : null;
    });
    expect(kept).toContain('1.5.0');
    expect(kept).toContain('1.4.0');
    expect(existsSync(path.join(releasesDir(), 'current'))).toBe(true);
    const history = await ferry.json<HistoryResponse>('history', 'hello');
    expect(history.releases.find((r) => r.version === '1.6.0-nohook')?.status).not.toBe('good');
  });
});

/**
 * Light traffic: one request every `everyMs`, as a quiet service sees. It paces the load; no test
 * waits on it for a condition. Bounded in time.
 */
function lightLoad(url: string, everyMs: number) {
  let stopping = false;
  let requests = 0;
  const deadline = Date.now() + 5 * 60_000;
  const running = (async () => {
    while (!stopping && Date.now() < deadline) {
      await fetch(url)
        .then((response) => response.arrayBuffer())
        .catch(() => undefined);
      requests++;
      await sleep(everyMs);
    }
  })();
  return {
    async stop(): Promise<number> {
      stopping = true;
      await running;
      return requests;
    },
  };
}

/** Canary analysis on evidence, the release ledger's verdicts, and forced ends, end to end. */
describe('canary analysis, the release ledger and forced ends', () => {
  let ferry: FerryHarness;

  beforeAll(async () => {
    ferry = await createHarness({
      instances: 1,
      extraVersions: ['1.2.0', '1.3.0'],
      analysis: '{ max_error_rate: 5%, min_requests: 20, max_wait: 3s }',
    });
    await ferry.start();
  });

  afterAll(async () => {
    await ferry?.cleanup();
  });

  const app = async (): Promise<AppStatus> => (await ferry.json<StatusResponse>('status', 'hello')).apps[0]!;
  const events = async (id: string) =>
    (await ferry.json<DeploymentDetailResponse>('show', id)).events.map((e) => e.message);
  const waitForPaused = () =>
    waitFor('the canary to pause', async () => {
      const deployment = (await app()).deployment;
      return deployment?.status === 'paused' ? deployment : null;
    });

  it('a canary without traffic is never promoted: the step waits for requests, then pauses saying why', async () => {
    const started = await ferry.cli('deploy', 'hello', '2.0.1-errors', '--strategy', 'canary');
    expect(started.code, started.stderr).toBe(0);
    const paused = await waitForPaused();
    expect(paused).toMatchObject({
      phase: 'shifting',
      step: 0,
      weight: 10,
      pauseReason: { kind: 'inconclusive' },
    });
    expect((await app()).current).toBe('1.0.0');
    const status = await ferry.cli('status', 'hello');
    expect(status.stdout).toMatch(
      /canary step 1\/2 at 10% \(paused: too few requests to judge, \d+\/20 requests; resume accepts the step, promote goes to 100%, abort rolls back\)/,
    );
    const log = await events(paused.id);
    expect(log).toContainEqual(
      expect.stringMatching(/^step 1: \d+\/20 requests so far; waiting up to 3\.00s for enough traffic$/),
    );
    expect(log).toContainEqual(
      expect.stringMatching(
        /^canary step 1 at 10% is inconclusive: .*; paused: `ferry resume hello --env production`/,
      ),
    );
    const aborted = await ferry.cli('abort', 'hello', '--wait');
    expect(aborted.code).toBe(1);
    expect(aborted.stdout).toMatch(/aborted: 1\.0\.0 -> 2\.0\.1-errors/);
  });

  it('under light traffic, a release answering 500 fails its canary at once and is marked bad', async () => {
    const load = lightLoad(`http://127.0.0.1:${ferry.appPort}/`, 50);
    const result = await ferry.cli('deploy', 'hello', '2.0.1-errors', '--strategy', 'canary', '--wait');
    await load.stop();
    expect(result.code, result.stdout).toBe(1);
    expect(result.stdout).toMatch(/FERRY_E_ANALYSIS_FAILED: canary step 1 at 10%: \d+\/\d+ errors/);
    const history = await ferry.json<HistoryResponse>('history', 'hello');
    expect(history.releases.find((r) => r.version === '2.0.1-errors')?.status).toBe('bad');
    expect((await app()).current).toBe('1.0.0');
  });

  it('refuses to deploy a release marked bad unless forced', async () => {
    const refused = await ferry.cli('deploy', 'hello', '2.0.1-errors');
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain(
      'release 2.0.1-errors of hello in production is marked bad: canary step 1 at 10%',
    );
    expect(refused.stderr).toContain(
      'deploy it anyway with: ferry deploy hello 2.0.1-errors --env production --force',
    );
    expect(refused.stderr).toContain('FERRY_E_RELEASE_BAD');
    expect((await app()).deployment?.status).toBe('rolled-back');

    const load = lightLoad(`http://127.0.0.1:${ferry.appPort}/`, 50);
    const forced = await ferry.cli(
      'deploy',
      'hello',
      '2.0.1-errors',
      '--force',
      '--strategy',
      'canary',
      '--wait',
    );
    await load.stop();
    expect(forced.stdout).toMatch(/although the ledger marks it bad \(forced by api\)/);
    expect(forced.code).toBe(1);
  });

  it('resume accepts an inconclusive step as passed, on the record', async () => {
    expect((await ferry.cli('deploy', 'hello', '1.1.0', '--strategy', 'canary')).code).toBe(0);
    const paused = await waitForPaused();
    const resumed = await ferry.cli('resume', 'hello');
    expect(resumed.code, resumed.stderr).toBe(0);
    await waitFor('step 2', async () => (await app()).deployment?.step === 1);
    const promoted = await ferry.cli('promote', 'hello', '--wait');
    expect(promoted.code, promoted.stdout + promoted.stderr).toBe(0);
    expect(await events(paused.id)).toContainEqual(
      expect.stringMatching(/^canary step 1 accepted by api without enough evidence \(\d+\/20 requests\)$/),
    );
    expect((await app()).current).toBe('1.1.0');
  });

  it('a rollback marks the release it leaves rolled-back; the next rollback does not return to it', async () => {
    expect((await ferry.cli('deploy', 'hello', '1.2.0', '--wait')).code).toBe(0);
    const first = await ferry.cli('rollback', 'hello', '--wait');
    expect(first.code, first.stdout).toBe(0);
    expect((await app()).current).toBe('1.1.0');
    const history = await ferry.cli('history', 'hello');
    expect(history.stdout).toMatch(/1\.2\.0\s+rolled-back\s+rolled back to 1\.1\.0 by deployment d-/);
    const second = await ferry.cli('rollback', 'hello', '--wait');
    expect(second.code, second.stdout).toBe(0);
    expect((await app()).current).toBe('1.0.0');
  });

  it('abort --force ends a canary at once: traffic back on the previous release, the new one stopped', async () => {
    expect((await ferry.cli('deploy', 'hello', '1.3.0', '--strategy', 'canary')).code).toBe(0);
    await waitFor('the canary step', async () => (await app()).deployment?.phase === 'shifting');
    const forced = await ferry.cli('abort', 'hello', '--force', '--wait');
    expect(forced.code).toBe(1);
    expect(forced.stdout).toMatch(/aborted: 1\.0\.0 -> 1\.3\.0/);
    const id = (await app()).deployment!.id;
    expect(await events(id)).toContainEqual(
      expect.stringMatching(
        /^ended at once by api \(forced\): traffic back on 1\.0\.0; 1\.3\.0 stopped without waiting/,
      ),
    );
    await waitFor('only 1.0.0 running', async () =>
      (await app()).instances.every((i) => i.version === '1.0.0'),
    );
    const response = await fetch(`http://127.0.0.1:${ferry.appPort}/`);
    expect(response.headers.get('x-version')).toBe('1.0.0');
    const wrong = await ferry.cli('pause', 'hello', '--force');
    expect(wrong.code).toBe(2);
  });
});

/** after_switch inside the deployment, and a first deployment's canary, end to end. */
describe('after_switch and the first deployment', () => {
  let ferry: FerryHarness;

  beforeAll(async () => {
    ferry = await createHarness({
      initialRelease: null,
      strategy: 'canary',
      extraVersions: ['1.2.0'],
      appExtra: `    hooks:
      after_switch: ['echo "$FERRY_VERSION $(readlink ../current)" >> ../../after-switch.log', 'case "$FERRY_VERSION" in 1.1.0) for i in $(seq 600); do [ -e ../../served-1.1.0 ] && break; sleep 0.1; done; exit 3;; esac']
`,
    });
    await ferry.start();
  });

  afterAll(async () => {
    await ferry?.cleanup();
  });

  const app = async (): Promise<AppStatus> => (await ferry.json<StatusResponse>('status', 'hello')).apps[0]!;
  const appDir = () => path.join(ferry.home, 'apps/hello/production');

  it('the first deployment of an app skips its canary steps, saying why', async () => {
    const result = await ferry.cli('deploy', 'hello', '1.0.0', '--wait');
    expect(result.code, result.stdout + result.stderr).toBe(0);
    expect(result.stdout).toContain(
      'first deployment of hello in production: no previous release to compare a canary against, so its steps are skipped',
    );
  });

  it('a failing after_switch rolls the deployment back at once: the previous release serves, no request fails', async () => {
    const load = startLoad(`http://127.0.0.1:${ferry.appPort}/`, { connections: 8 });
    await waitFor('load to flow', () => load.report.requests > 200);
    const deploying = ferry.cli('deploy', 'hello', '1.1.0', '--strategy', 'blue-green', '--wait');
    // The hook fails only once the test saw 1.1.0 serve (it waits for this file), so the switch
    // and the way back both happen under load, on every machine.
    await waitFor('1.1.0 to serve', () => (load.report.versions['1.1.0'] ?? 0) > 0, 60_000);
    writeFileSync(path.join(appDir(), 'served-1.1.0'), '');
    const result = await deploying;
    const report = await load.stop();
    expect(result.code, result.stdout).toBe(1);
    expect(result.stdout).toMatch(/FERRY_E_HOOK_FAILED: after_switch hook failed: case .*: exit status 3/);
    expect(result.stdout).toMatch(/rolled-back: 1\.0\.0 -> 1\.1\.0/);
    expect(report.failures, report.samples.join('\n')).toBe(0);
    expect(report.versions['1.1.0']).toBeGreaterThan(0); // it did serve, between the switch and the hook's failure
    const status = await app();
    expect(status.current).toBe('1.0.0');
    expect(status.instances.map((i) => i.version)).toEqual(['1.0.0', '1.0.0']);
    expect(readlinkSync(path.join(appDir(), 'releases/current'))).toBe('1.0.0');
    const history = await ferry.json<HistoryResponse>('history', 'hello');
    expect(history.releases.find((r) => r.version === '1.1.0')).toMatchObject({
      status: 'bad',
      reason: expect.stringMatching(/after_switch hook failed/),
    });
    // The hook ran with `current` already on the new release.
    expect(readFileSync(path.join(appDir(), 'after-switch.log'), 'utf8')).toContain('1.1.0 1.1.0\n');
  });

  it('a rollback whose after_switch fails goes on, the failure on the record', async () => {
    expect((await ferry.cli('deploy', 'hello', '1.2.0', '--strategy', 'blue-green', '--wait')).code).toBe(0);
    const result = await ferry.cli('rollback', 'hello', '--to', '1.1.0', '--wait');
    expect(result.code, result.stdout).toBe(0);
    expect(result.stdout).toMatch(/exit status 3; the rollback goes on: returning to 1\.2\.0 would be worse/);
    expect((await app()).current).toBe('1.1.0');
  });
});
