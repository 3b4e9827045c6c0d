import { createHmac } from 'node:crypto';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StatusResponse } from '../../src/api/types.js';
import { createHarness, freePort, type FerryHarness } from '../support/ferry.js';
import { storedAudit } from '../support/stored-records.js';
import { waitFor } from '../support/wait.js';

const SECRET = 'a-generic-secret-of-32-characters';
const GITHUB_SECRET = 'the-github-repository-secret-xyz';

/**
 * Webhooks on a real `ferry up`, on their own address: a signed generic delivery deploys, a forged
 * one changes nothing and is audited, a GitHub release deploys its tag.
 */
describe('webhooks deploy releases', () => {
  let ferry: FerryHarness;
  let hooks: string;

  beforeAll(async () => {
    const port = await freePort();
    hooks = `http://127.0.0.1:${port}`;
    ferry = await createHarness({
      extraVersions: ['1.2.0', '0123456789ab', 'fedcba987654'],
      top: `triggers: { listen: "127.0.0.1:${port}" }`,
      appExtra: `    triggers: { generic: { secret: "${SECRET}" }, github: { secret: "${GITHUB_SECRET}", repository: "acme/hello", events: [release, push, workflow_run], branch: main, workflow: build } }\n`,
    });
    await ferry.start();
  }, 120_000);

  afterAll(async () => {
    await ferry?.cleanup();
  }, 60_000);

  const current = async (): Promise<string | null> =>
    (await ferry.json<StatusResponse>('status', 'hello')).apps[0]?.current ?? null;

  function generic(body: string, opts: { secret?: string; delivery: string }): Promise<Response> {
    const timestamp = String(Math.floor(Date.now() / 1000));
    const signature = createHmac('sha256', opts.secret ?? SECRET)
      .update(`${timestamp}.${body}`)
      .digest('hex');
    return fetch(`${hooks}/hooks/generic/hello`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'x-ferry-timestamp': timestamp,
        'x-ferry-delivery': opts.delivery,
        'x-ferry-signature-256': `sha256=${signature}`,
      },
      body,
    });
  }

  it('a forged delivery changes nothing, gets 401 and is audited; a signed one deploys', async () => {
    const forged = await generic(JSON.stringify({ version: '1.1.0' }), {
      secret: 'not-the-secret-at-all!!',
      delivery: 'd-forged',
    });
    expect(forged.status).toBe(401);
    expect(await current()).toBe('1.0.0');
    expect(storedAudit(ferry.home, 'webhook-refused').map((a) => a.detail?.code)).toContain(
      'FERRY_E_WEBHOOK_SIGNATURE',
    );

    const signed = await generic(JSON.stringify({ version: '1.1.0' }), { delivery: 'd-1' });
    expect(signed.status, await signed.clone().text()).toBeLessThan(300);
    await waitFor('1.1.0 to serve', async () => (await current()) === '1.1.0', 60_000);
    const [deploy] = storedAudit(ferry.home, 'webhook-deploy');
    expect(deploy).toMatchObject({ actor: 'webhook:generic:d-1', detail: { version: '1.1.0' } });
    // The same delivery again is a replay.
    expect((await generic(JSON.stringify({ version: '1.1.0' }), { delivery: 'd-1' })).status).toBe(409);
    // No secret in the log.
    const { readFileSync } = await import('node:fs');
    expect(readFileSync(path.join(ferry.home, 'daemon.log'), 'utf8')).not.toContain(SECRET);
  }, 120_000);

  it('a GitHub release published: its tag (without the leading v) deployed', async () => {
    const body = JSON.stringify({
      action: 'published',
      release: {
        tag_name: 'v1.2.0',
        draft: false,
        prerelease: false,
        html_url: 'https://github.com/acme/hello/releases/v1.2.0',
      },
      repository: { full_name: 'acme/hello' },
    });
    const res = await github('release', body, 'gh-1');
    expect(res.status, await res.clone().text()).toBeLessThan(300);
    await waitFor('1.2.0 to serve', async () => (await current()) === '1.2.0', 60_000);
  }, 120_000);

  it('a push to the configured branch deploys its commit (the first 12 hex of after) by the template', async () => {
    const push = (ref: string) =>
      JSON.stringify({
        ref,
        before: '1'.repeat(40),
        after: '0123456789abcdef0123456789abcdef01234567',
        repository: { full_name: 'acme/hello' },
      });
    const other = await github('push', push('refs/heads/feature'), 'gh-push-0');
    expect(await other.json()).toMatchObject({ accepted: false });
    const res = await github('push', push('refs/heads/main'), 'gh-push-1');
    expect(res.status, await res.clone().text()).toBe(202);
    await waitFor('0123456789ab to serve', async () => (await current()) === '0123456789ab', 60_000);
    expect(storedAudit(ferry.home, 'release-deploy').map((a) => a.actor)).toContain(
      'webhook:github:gh-push-1',
    );
  }, 120_000);

  it('a workflow run completed with success deploys its head commit; a failed run deploys nothing', async () => {
    const run = (conclusion: string) =>
      JSON.stringify({
        action: 'completed',
        workflow_run: {
          name: 'build',
          head_branch: 'main',
          head_sha: 'fedcba9876543210fedcba9876543210fedcba98',
          conclusion,
        },
        repository: { full_name: 'acme/hello' },
      });
    const failed = await github('workflow_run', run('failure'), 'gh-run-0');
    expect(await failed.json()).toMatchObject({ accepted: false });
    const res = await github('workflow_run', run('success'), 'gh-run-1');
    expect(res.status, await res.clone().text()).toBe(202);
    await waitFor('fedcba987654 to serve', async () => (await current()) === 'fedcba987654', 60_000);
  }, 120_000);

  it('a delivery replayed after the daemon restarted is still refused', async () => {
    await ferry.kill9();
    await ferry.start();
    const again = await github(
      'push',
      JSON.stringify({
        ref: 'refs/heads/main',
        after: '0'.repeat(40),
        repository: { full_name: 'acme/hello' },
      }),
      'gh-push-1',
    );
    expect(again.status).toBe(409);
    expect(await current()).toBe('fedcba987654');
  }, 120_000);

  function github(event: string, body: string, delivery: string): Promise<Response> {
    const signature = createHmac('sha256', GITHUB_SECRET).update(body).digest('hex');
    return fetch(`${hooks}/hooks/github`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'x-github-event': event,
        'x-github-delivery': delivery,
        'x-hub-signature-256': `sha256=${signature}`,
      },
      body,
    });
  }
});
