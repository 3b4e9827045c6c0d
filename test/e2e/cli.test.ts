import { statSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StatusResponse } from '../../src/api/types.js';
import { createHarness, type FerryHarness } from '../support/ferry.js';
import { waitFor } from '../support/wait.js';

/** The CLI as users meet it: exit codes, messages that name what was wrong, --json, the token. */
describe('ferry CLI against a running daemon', () => {
  let ferry: FerryHarness;

  beforeAll(async () => {
    // Canary steps that never end by themselves here: abort, pause and promote find the canary
    // running however slow the machine is; the test ends each deployment it starts.
    ferry = await createHarness({
      instances: 1,
      canarySteps: '[{ weight: 10%, pause: 10m }, { weight: 50%, pause: 10m }]',
    });
    await ferry.start();
  });

  afterAll(async () => {
    await ferry?.cleanup();
  });

  it('finds the daemon and its owner-only token without flags', async () => {
    const status = await ferry.json<StatusResponse>('status');
    expect(status.apps[0]).toMatchObject({ app: 'hello', env: 'production', current: '1.0.0' });
    expect(statSync(path.join(ferry.home, 'api-token')).mode & 0o777).toBe(0o600);
    expect(statSync(ferry.home).mode & 0o777).toBe(0o700);
  });

  it('exits 2 naming the problem for usage errors and unknown names', async () => {
    const badStrategy = await ferry.cli('deploy', 'hello', '1.1.0', '--strategy', 'rolling');
    expect(badStrategy.code).toBe(2);
    expect(badStrategy.stderr).toMatch(
      /--strategy: expected one of blue-green, canary, all-at-once, got "rolling"/,
    );
    const unknownApp = await ferry.cli('deploy', 'nope', '1.1.0');
    expect(unknownApp.code).toBe(2);
    expect(unknownApp.stderr).toMatch(/no app named "nope" is configured \(known: hello\)/);
    const unknownEnv = await ferry.cli('status', 'hello', '--env', 'mars');
    expect(unknownEnv.code).toBe(2);
    expect(unknownEnv.stderr).toMatch(/no environment named "mars"/);
    const badVersion = await ferry.cli('deploy', 'hello', '../../etc');
    expect(badVersion.code).toBe(2);
    expect(badVersion.stderr).toMatch(/version: expected/);
    const missingArg = await ferry.cli('deploy', 'hello');
    expect(missingArg.code).toBe(2);
  });

  it('refuses a wrong token with exit 2, never echoing it', async () => {
    const wrong = await ferry.cli('status', '--token', 'not-the-token');
    expect(wrong.code).toBe(2);
    expect(wrong.stderr).toMatch(/the API token is wrong/);
    expect(wrong.stderr).not.toContain('not-the-token');
  });

  it('refuses a second deployment while one runs, naming it, and aborting works', async () => {
    const first = await ferry.cli('deploy', 'hello', '1.1.0', '--strategy', 'canary');
    expect(first.code).toBe(0);
    const second = await ferry.cli('deploy', 'hello', '2.0.1-errors');
    expect(second.code).toBe(1);
    expect(second.stderr).toMatch(
      /deployment d-[0-9a-f]+ of hello in production .* wait for it, or abort it with: ferry abort hello --env production/,
    );
    const early = await ferry.cli('resume', 'hello');
    expect(early.code).toBe(1);
    expect(early.stderr).toMatch(/cannot resume: deployment d-[0-9a-f]+ is (running|pending)/);
    const aborted = await ferry.cli('abort', 'hello', '--wait');
    expect(aborted.stdout).toMatch(/aborted: 1\.0\.0 -> 1\.1\.0/);
    expect(aborted.code).toBe(1);
    const status = await ferry.json<StatusResponse>('status');
    expect(status.apps[0]!.current).toBe('1.0.0');
  });

  it('pauses, resumes and promotes a canary', async () => {
    expect((await ferry.cli('deploy', 'hello', '1.1.0', '--strategy', 'canary')).code).toBe(0);
    await waitFor(
      'the canary step',
      async () => (await ferry.json<StatusResponse>('status')).apps[0]!.deployment?.phase === 'shifting',
    );
    const paused = await ferry.cli('pause', 'hello');
    expect(paused.code, paused.stderr).toBe(0);
    let status = await ferry.json<StatusResponse>('status');
    expect(status.apps[0]!.deployment).toMatchObject({ status: 'paused', phase: 'shifting', weight: 10 });
    expect((await ferry.cli('resume', 'hello')).code).toBe(0);
    const promoted = await ferry.cli('promote', 'hello', '--wait');
    expect(promoted.code, promoted.stdout + promoted.stderr).toBe(0);
    status = await ferry.json<StatusResponse>('status');
    expect(status.apps[0]!.current).toBe('1.1.0');
  });

  it('shows logs and history, with --json', async () => {
    const logs = await ferry.cli('logs', 'hello', '-n', '5');
    expect(logs.code).toBe(0);
    expect(logs.stdout).toMatch(/hello-1\.1\.0-[0-9a-f]+ \| hello 1\.1\.0 listening/);
    const history = await ferry.json<{ releases: Array<{ version: string; status: string }> }>(
      'history',
      'hello',
    );
    expect(history.releases.map((r) => [r.version, r.status])).toContainEqual(['1.1.0', 'good']);
  });

  it('validates configuration files with exit 2 and every problem listed', async () => {
    const { writeFileSync } = await import('node:fs');
    const bad = path.join(ferry.dir, 'bad.yaml');
    writeFileSync(
      bad,
      'apps:\n  web:\n    artifact: { url: x }\n    run: { command: x }\n    listen: 1\n    health: { interval: fast }\n    instances: 0\n',
    );
    const result = await ferry.cli('config', 'check', '-c', bad);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('apps.web.health.interval: expected a duration like "5s", got "fast"');
    expect(result.stderr).toContain(
      'apps.web.instances: expected a number of instances (a whole number >= 1), got 0',
    );
    const good = await ferry.cli('config', 'check', '-c', ferry.configPath);
    expect(good.code).toBe(0);
  });
});
