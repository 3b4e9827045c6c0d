import { createHash, createHmac } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HistoryResponse, StatusResponse } from '../../src/api/types.js';
import { FakeGithub } from '../../src/sources/github/test-support/fake-github.js';
import { createHarness, freePort, type FerryHarness } from '../support/ferry.js';
import { waitFor } from '../support/wait.js';

const TOKEN = 'ghp_e2eTokenOfTheWatcher0123456789abcdef';
const SECRET = 'a-github-webhook-secret-of-32-chars';
const REPO = 'acme/hello';

/**
 * A private repository's releases go live by themselves: the real octokit client of Ferry's watcher
 * against a local server speaking GitHub's REST API. A published release is found (at once: its
 * webhook wakes the watcher), its asset fetched by the host with the token and verified against the
 * release's SHA256SUMS asset, and deployed; a release whose checksums do not match is refused and
 * nothing changes; one that fails its health checks is rolled back and never picked again, until a
 * newer one appears.
 */
describe('GitHub releases deploy by themselves', () => {
  let ferry: FerryHarness;
  let github: FakeGithub;
  let hooks: string;
  let tokenDir: string;
  const tarball = (version: string) => readFileSync(path.join(ferry.dir, 'dist', `hello-${version}.tar.gz`));
  const sha = (data: Buffer) => createHash('sha256').update(data).digest('hex');

  /** Publishes a release with its tarball and a SHA256SUMS asset (`sums` overrides the digest). */
  function publish(version: string, sums?: string): void {
    const name = `hello-${version}.tar.gz`;
    const data = tarball(version);
    github.publish(REPO, {
      tag: `v${version}`,
      body: `release ${version}`,
      assets: [
        { name, content: data },
        { name: 'SHA256SUMS', content: `${sums ?? sha(data)}  ${name}\n` },
      ],
    });
  }

  /** GitHub's `release` webhook for the tag, signed: it wakes the watcher. */
  async function releaseWebhook(version: string, delivery: string): Promise<Response> {
    const body = JSON.stringify({
      action: 'published',
      release: { tag_name: `v${version}`, draft: false, prerelease: false, body: '' },
      repository: { full_name: REPO },
    });
    const signature = createHmac('sha256', SECRET).update(body).digest('hex');
    return fetch(`${hooks}/hooks/github`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'x-github-event': 'release',
        'x-github-delivery': delivery,
        'x-hub-signature-256': `sha256=${signature}`,
      },
      body,
    });
  }

  const current = async (): Promise<string | null> =>
    (await ferry.json<StatusResponse>('status', 'hello')).apps[0]?.current ?? null;
  const deployments = async () =>
    (await ferry.json<HistoryResponse>('history', 'hello', '--limit', '20')).deployments;

  beforeAll(async () => {
    github = await new FakeGithub({ token: TOKEN, basePath: '/api/v3' }).start();
    tokenDir = mkdtempSync(path.join(os.tmpdir(), 'ferry-gh-token-'));
    const tokenFile = path.join(tokenDir, 'token');
    writeFileSync(tokenFile, `${TOKEN}\n`, { mode: 0o600 });
    const port = await freePort();
    hooks = `http://127.0.0.1:${port}`;
    ferry = await createHarness({
      instances: 1,
      healthDeadline: '4s',
      extraVersions: ['2.0.0', '2.1.0', '2.2.0-unhealthy', '2.3.0'],
      top: `triggers: { listen: "127.0.0.1:${port}" }`,
      appExtra: `    triggers:
      github: { secret: "${SECRET}", repository: ${REPO} }
    sources:
      github:
        repository: ${REPO}
        asset: "hello-*.tar.gz"
        checksums: SHA256SUMS
        require_checksum: true
        base_url: "${github.baseUrl}"
        token_file: "${tokenFile}"
        interval: 10m
`,
    });
    // Published before Ferry starts: the first poll offers the newest release only.
    publish('2.0.0');
    await ferry.start();
  }, 180_000);

  afterAll(async () => {
    await ferry?.cleanup();
    await github?.close();
    rmSync(tokenDir, { recursive: true, force: true });
  }, 60_000);

  it('deploys the newest release at start, its asset fetched with the token and checked against SHA256SUMS', async () => {
    await waitFor('2.0.0 to serve', async () => (await current()) === '2.0.0', 90_000);
    const served = await fetch(`http://127.0.0.1:${ferry.appPort}/`);
    expect(await served.text()).toContain('2.0.0');
    // The host asked GitHub's API for the asset's bytes, with the token.
    const downloads = github.seen.filter(
      (r) => /\/releases\/assets\/\d+$/.test(r.path) && r.headers.accept === 'application/octet-stream',
    );
    expect(downloads.length).toBeGreaterThan(0);
    expect(
      downloads.every(
        (r) => r.headers.authorization === `Bearer ${TOKEN}` || r.headers.authorization === `token ${TOKEN}`,
      ),
    ).toBe(true);
    const [last] = await deployments();
    expect(last?.trigger).toEqual({ kind: 'watcher', actor: `watcher:github:${REPO}` });
    // The token is in no log line.
    expect(readFileSync(path.join(ferry.home, 'daemon.log'), 'utf8')).not.toContain(TOKEN);
  }, 120_000);

  it('a release whose SHA256SUMS does not match its asset is refused: nothing changes', async () => {
    publish('2.1.0', 'f'.repeat(64));
    const res = await releaseWebhook('2.1.0', 'gh-2.1.0');
    expect(res.status, await res.clone().text()).toBe(202);
    expect(await res.json()).toMatchObject({ polled: 'github' });
    await waitFor(
      'the deployment of 2.1.0 to fail',
      async () => (await deployments()).some((d) => d.to === '2.1.0' && d.status === 'failed'),
      60_000,
    );
    const failed = (await deployments()).find((d) => d.to === '2.1.0')!;
    expect(failed.failure?.code).toBe('FERRY_E_CHECKSUM_MISMATCH');
    expect(await current()).toBe('2.0.0');
  }, 120_000);

  it('a release rolled back is not picked again; a newer one is', async () => {
    publish('2.2.0-unhealthy');
    expect((await releaseWebhook('2.2.0-unhealthy', 'gh-2.2.0')).status).toBe(202);
    await waitFor(
      '2.2.0-unhealthy to be rolled back',
      async () =>
        (await deployments()).some(
          (d) => d.to === '2.2.0-unhealthy' && ['rolled-back', 'failed'].includes(d.status),
        ),
      90_000,
    );
    expect(await current()).toBe('2.0.0');
    // Offered again (a redelivery, by hand): the ledger's verdict keeps it out.
    const { releases } = await ferry.json<{
      releases: Array<{ version: string; artifact: { url: string; checksum: string } | null }>;
    }>('releases', 'hello');
    const recorded = releases.find((r) => r.version === '2.2.0-unhealthy')!;
    const again = await ferry.cli(
      'release',
      'add',
      'hello',
      '2.2.0-unhealthy',
      '--artifact',
      recorded.artifact!.url,
      '--checksum',
      recorded.artifact!.checksum,
      '--json',
    );
    expect(again.code, again.stderr).toBe(0);
    expect(JSON.parse(again.stdout)).toMatchObject({
      outcomes: [expect.objectContaining({ action: 'skipped' })],
    });
    expect((await deployments()).filter((d) => d.to === '2.2.0-unhealthy')).toHaveLength(1);

    publish('2.3.0');
    expect((await releaseWebhook('2.3.0', 'gh-2.3.0')).status).toBe(202);
    await waitFor('2.3.0 to serve', async () => (await current()) === '2.3.0', 90_000);

    // A redelivered webhook with nothing new: the watcher's conditional request gets a 304, which
    // spends no rate limit, and nothing is deployed.
    const used = github.rateUsed;
    const before = (await deployments()).length;
    expect((await releaseWebhook('2.3.0', 'gh-2.3.0-again')).status).toBe(202);
    await waitFor('a 304 for the listing', () =>
      Promise.resolve(github.requests(`/repos/${REPO}/releases`).some((r) => r.status === 304)),
    );
    expect(github.rateUsed).toBe(used);
    expect((await deployments()).length).toBe(before);
  }, 180_000);
});
