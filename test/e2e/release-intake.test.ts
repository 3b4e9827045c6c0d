import { createHash, createHmac } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StatusResponse } from '../../src/api/types.js';
import { buildReleases, createHarness, freePort, type FerryHarness } from '../support/ferry.js';
import { storedValues } from '../support/stored-records.js';
import { waitFor } from '../support/wait.js';

const SECRET = 'a-generic-secret-of-32-characters';

/**
 * A release found by a webhook deploys by itself through the intake: from its own URL and checksum
 * (a tarball the app's artifact template would not find), into the environment whose policy takes
 * it now; an environment whose deployment window is closed keeps it waiting. A delivery id replayed
 * after a restart is still refused.
 */
describe('releases offered by a webhook deploy by themselves', () => {
  let ferry: FerryHarness;
  let hooks: string;
  let artifacts: Server;
  let artifactDir: string;
  let tarballUrl: string;
  let checksum: string;
  let handUrl: string;
  let handChecksum: string;

  beforeAll(async () => {
    // 2.0.0 is served only here, under a name the template (dist/hello-{version}.tar.gz) never asks for.
    artifactDir = mkdtempSync(path.join(os.tmpdir(), 'ferry-artifacts-'));
    await buildReleases(artifactDir, ['2.0.0', '2.1.0']);
    const tarball = readFileSync(path.join(artifactDir, 'hello-2.0.0.tar.gz'));
    const handTarball = readFileSync(path.join(artifactDir, 'hello-2.1.0.tar.gz'));
    checksum = `sha256:${createHash('sha256').update(tarball).digest('hex')}`;
    handChecksum = `sha256:${createHash('sha256').update(handTarball).digest('hex')}`;
    artifacts = createServer((request, response) => {
      if (request.url === '/builds/7/bundle.tgz') response.writeHead(200).end(tarball);
      else if (request.url === '/builds/8/bundle.tgz') response.writeHead(200).end(handTarball);
      else response.writeHead(404).end();
    });
    await new Promise<void>((resolve) => artifacts.listen(0, '127.0.0.1', resolve));
    const address = artifacts.address();
    const origin = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
    tarballUrl = `${origin}/builds/7/bundle.tgz`;
    handUrl = `${origin}/builds/8/bundle.tgz`;

    const port = await freePort();
    const stagingPort = await freePort();
    hooks = `http://127.0.0.1:${port}`;
    ferry = await createHarness({
      instances: 1,
      top: `triggers: { listen: "127.0.0.1:${port}" }\nenvironments: { production: {}, staging: {} }`,
      // Staging's window opens on the 1st of January only: closed now, whatever the day.
      appExtra: `    triggers: { generic: { secret: "${SECRET}" } }
    environments:
      staging:
        listen: "127.0.0.1:${stagingPort}"
        auto_deploy: { windows: [{ cron: "0 0 1 1 *", duration: 1m }] }
`,
    });
    await ferry.start();
  }, 180_000);

  afterAll(async () => {
    await ferry?.cleanup();
    await new Promise((resolve) => artifacts?.close(resolve));
    rmSync(artifactDir, { recursive: true, force: true });
  }, 60_000);

  const current = async (env: string): Promise<string | null> =>
    (await ferry.json<StatusResponse>('status', 'hello', '--env', env)).apps[0]?.current ?? null;

  function generic(body: string, delivery: string): Promise<Response> {
    const timestamp = String(Math.floor(Date.now() / 1000));
    const signature = createHmac('sha256', SECRET).update(`${timestamp}.${body}`).digest('hex');
    return fetch(`${hooks}/hooks/generic/hello`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'x-ferry-timestamp': timestamp,
        'x-ferry-delivery': delivery,
        'x-ferry-signature-256': `sha256=${signature}`,
      },
      body,
    });
  }

  it('deploys from the URL and checksum it was given; a closed window keeps staging waiting', async () => {
    expect(await current('production')).toBe('1.0.0');
    const res = await generic(JSON.stringify({ version: '2.0.0', url: tarballUrl, checksum }), 'rel-1');
    expect(res.status, await res.clone().text()).toBe(202);
    const answer = (await res.json()) as {
      outcomes: Array<{ env: string; action: string; reason: string | null }>;
    };
    expect(answer.outcomes).toEqual([
      expect.objectContaining({ env: 'production', action: 'deployed' }),
      expect.objectContaining({
        env: 'staging',
        action: 'waiting',
        reason: expect.stringMatching(/deployment windows/),
      }),
    ]);
    await waitFor(
      '2.0.0 to serve in production',
      async () => (await current('production')) === '2.0.0',
      90_000,
    );
    const served = await fetch(`http://127.0.0.1:${ferry.appPort}/`);
    expect(await served.text()).toContain('2.0.0');
    expect(await current('staging')).toBe('1.0.0');
    // Status says what waits, why, and who brought it.
    const { waiting } = await ferry.json<StatusResponse>('status');
    expect(waiting).toEqual([
      expect.objectContaining({
        app: 'hello',
        env: 'staging',
        version: '2.0.0',
        trigger: { kind: 'webhook', actor: 'webhook:generic:rel-1' },
        reason: expect.stringMatching(/deployment windows/),
      }),
    ]);
    const shown = await ferry.cli('status');
    expect(shown.stdout).toMatch(/waiting: hello 2\.0\.0 \(staging\), by webhook generic rel-1/);
    // The ledger keeps where the host fetched it from.
    const [ledger] = storedValues<{ artifactUrl?: string }>(ferry.home, '/ledger/hello/production/2.0.0');
    expect(ledger?.value.artifactUrl).toBe(tarballUrl);
  }, 180_000);

  it('another artifact for a recorded version is refused with 409; a replay after a restart too', async () => {
    const other = await generic(
      JSON.stringify({ version: '2.0.0', url: tarballUrl, checksum: `sha256:${'0'.repeat(64)}` }),
      'rel-2',
    );
    expect(other.status).toBe(409);
    expect(((await other.json()) as { error: { code: string } }).error.code).toBe('FERRY_E_RELEASE_CONFLICT');

    await ferry.kill9();
    await ferry.start();
    const replay = await generic(JSON.stringify({ version: '2.0.0', url: tarballUrl, checksum }), 'rel-1');
    expect(replay.status).toBe(409);
    expect(((await replay.json()) as { error: { code: string } }).error.code).toBe('FERRY_E_WEBHOOK_REPLAY');
    // What waits in staging waits still.
    expect(await current('staging')).toBe('1.0.0');
  }, 180_000);

  it('ferry release add records a release by hand and deploys it; history says who', async () => {
    const added = await ferry.cli(
      'release',
      'add',
      'hello',
      '2.1.0',
      '--artifact',
      handUrl,
      '--checksum',
      handChecksum,
      '--env',
      'production',
      '--changelog',
      'fixes the greeting',
      '--json',
    );
    expect(added.code, added.stderr).toBe(0);
    const answer = JSON.parse(added.stdout) as {
      release: { version: string; trigger: { kind: string }; changelog: string };
      outcomes: Array<{ env: string; action: string }>;
    };
    expect(answer.release).toMatchObject({ version: '2.1.0', trigger: { kind: 'user' } });
    expect(answer.outcomes).toEqual([expect.objectContaining({ env: 'production', action: 'deployed' })]);
    await waitFor(
      '2.1.0 to serve in production',
      async () => (await current('production')) === '2.1.0',
      90_000,
    );
    const history = await ferry.cli('history', 'hello', '--env', 'production');
    expect(history.code, history.stderr).toBe(0);
    const lines = history.stdout.split('\n');
    expect(lines.find((line) => line.includes('2.1.0'))).toMatch(/by user/);
    expect(lines.find((line) => line.includes('-> 2.0.0') || line.includes('→ 2.0.0'))).toMatch(
      /by webhook generic/,
    );
    // The catalog lists both, each with its trigger and its status in each environment.
    const releases = await ferry.cli('releases', 'hello');
    expect(releases.code, releases.stderr).toBe(0);
    expect(releases.stdout).toMatch(/2\.1\.0/);
    expect(releases.stdout).toMatch(/2\.0\.0/);
  }, 180_000);
});
