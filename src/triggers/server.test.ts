import { afterEach, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { parseConfig } from '../config/load.js';
import { FerryError } from '../errors/ferry-error.js';
import { FakeClock } from '../lib/clock.js';
import { createLogger } from '../lib/logger.js';
import type { AuditEntry } from '../store/store.js';
import type { IntakeOutcome, ReleaseCandidate } from '../releases/release.js';
import type { RegistryCallback } from './callback.js';
import { createTriggersServer } from './server.js';
import { signPayload } from './signature.js';

const SECRET = 'generic-secret-0123456789';
const GH_SECRET = 'github-secret-0123456789';
const TOKEN = 'registry-token-0123456789';
const config = parseConfig(
  `
triggers: { max_body: 2KiB, rate_limit: { requests: 5, per: 1m } }
apps:
  hello:
    artifact: { url: "dist/hello-{version}.tar.gz" }
    run: { command: node, args: [server.mjs] }
    listen: 8080
    triggers:
      generic: { secret: ${SECRET} }
      github: { secret: ${GH_SECRET}, repository: acme/hello, events: [release, push, workflow_run], branch: main, workflow: build }
      registry: { repository: acme/hello, token: ${TOKEN} }
`,
  { configPath: '/etc/ferry/ferry.yaml', env: { FERRY_HOME: '/var/lib/ferry' } },
);

let server: FastifyInstance | null = null;
afterEach(async () => {
  await server?.close();
  server = null;
});

function setup(opts: { refuse?: FerryError; config?: typeof config; polls?: string[] } = {}) {
  const current = opts.config ?? config;
  const clock = new FakeClock(1_700_000_000_000);
  const deploys: Array<{ body: { app: string; version: string; env?: string }; actor: string }> = [];
  const offers: ReleaseCandidate[] = [];
  const audits: AuditEntry[] = [];
  const callbacks: Array<{ url: string; body: RegistryCallback }> = [];
  server = createTriggersServer({
    settings: current.triggers!,
    config: { current },
    offer: (candidate) => {
      if (opts.refuse) return Promise.reject(opts.refuse);
      offers.push(candidate);
      const { app, version, env } = candidate;
      deploys.push({
        body: { app, version, ...(env !== null ? { env } : {}) },
        actor: candidate.trigger.actor,
      });
      const outcome: IntakeOutcome = {
        env: env ?? 'production',
        action: 'deployed',
        reason: null,
        deployment: 'd',
      };
      return Promise.resolve([outcome]);
    },
    audit: (entry) => {
      audits.push(entry);
      return Promise.resolve();
    },
    ...(opts.polls
      ? {
          pollSources: (app: string) => {
            opts.polls!.push(app);
            return Promise.resolve();
          },
        }
      : {}),
    clock,
    logger: createLogger({ level: 'silent' }),
    answerCallback: (url, body) => {
      callbacks.push({ url, body });
      return Promise.resolve();
    },
  });
  return { server, clock, deploys, offers, audits, callbacks };
}

function generic(
  s: FastifyInstance,
  clock: FakeClock,
  body: string,
  opts: { delivery?: string; secret?: string; timestamp?: number; signature?: string } = {},
) {
  const timestamp = String(opts.timestamp ?? Math.floor(clock.now() / 1000));
  return s.inject({
    method: 'POST',
    url: '/hooks/generic/hello',
    headers: {
      'content-type': 'application/json',
      'x-ferry-timestamp': timestamp,
      'x-ferry-delivery': opts.delivery ?? 'd-1',
      'x-ferry-signature-256': opts.signature ?? signPayload(opts.secret ?? SECRET, `${timestamp}.${body}`),
    },
    payload: body,
  });
}

describe('generic webhooks', () => {
  it('a signed delivery deploys the version, with the trigger as actor, audited', async () => {
    const { server: s, clock, deploys, audits } = setup();
    const res = await generic(s, clock, '{"version":"1.1.0","changelog":"fixes"}');
    expect(res.statusCode).toBe(202);
    expect(res.json()).toMatchObject({
      accepted: true,
      app: 'hello',
      version: '1.1.0',
      outcomes: [{ env: 'production', action: 'deployed' }],
    });
    expect(deploys).toEqual([{ body: { app: 'hello', version: '1.1.0' }, actor: 'webhook:generic:d-1' }]);
    expect(audits).toMatchObject([
      { action: 'webhook-deploy', actor: 'webhook:generic:d-1', target: 'app/hello' },
    ]);
  });

  it.each([
    ['a wrong secret', { secret: 'another-secret-0123456789' }],
    ['a signature of the wrong length', { signature: 'sha256=abcd' }],
    ['no sha256= prefix', { signature: 'f'.repeat(64) }],
  ] as Array<[string, { secret?: string; signature?: string }]>)(
    '%s: 401, nothing deployed, audited without the signature',
    async (_name, opts) => {
      const sent = opts.signature ?? signPayload(opts.secret ?? '', `${1_700_000_000}.{"version":"1.1.0"}`);
      const { server: s, clock, deploys, audits } = setup();
      const res = await generic(s, clock, '{"version":"1.1.0"}', opts);
      expect(res.statusCode).toBe(401);
      expect(res.json().error.code).toBe('FERRY_E_WEBHOOK_SIGNATURE');
      expect(deploys).toEqual([]);
      expect(audits).toMatchObject([
        { action: 'webhook-refused', detail: { code: 'FERRY_E_WEBHOOK_SIGNATURE' } },
      ]);
      const text = JSON.stringify(audits) + res.body;
      expect(text).not.toContain(SECRET);
      expect(text).not.toContain(sent.replace('sha256=', ''));
    },
  );

  it('a missing signature: 401', async () => {
    const { server: s, deploys } = setup();
    const res = await s.inject({
      method: 'POST',
      url: '/hooks/generic/hello',
      headers: { 'content-type': 'application/json' },
      payload: '{"version":"1.1.0"}',
    });
    expect(res.statusCode).toBe(401);
    expect(deploys).toEqual([]);
  });

  it('a replayed delivery id: 409, deployed once', async () => {
    const { server: s, clock, deploys } = setup();
    expect((await generic(s, clock, '{"version":"1.1.0"}')).statusCode).toBe(202);
    const again = await generic(s, clock, '{"version":"1.1.0"}');
    expect(again.statusCode).toBe(409);
    expect(again.json().error.code).toBe('FERRY_E_WEBHOOK_REPLAY');
    expect(deploys).toHaveLength(1);
  });

  it('a timestamp outside the window: 409, even when signed', async () => {
    const { server: s, clock, deploys } = setup();
    const res = await generic(s, clock, '{"version":"1.1.0"}', {
      timestamp: Math.floor(clock.now() / 1000) - 301,
    });
    expect(res.statusCode).toBe(409);
    expect(res.json().error.message).toContain('within 300s');
    expect(deploys).toEqual([]);
  });

  it('a body may name its app: the one of the URL, or 400', async () => {
    const { server: s, clock, deploys } = setup();
    const same = await generic(s, clock, '{"app":"hello","version":"1.1.0"}', { delivery: 'a-1' });
    expect(same.statusCode).toBe(202);
    const other = await generic(s, clock, '{"app":"billing","version":"1.2.0"}', { delivery: 'a-2' });
    expect(other.statusCode).toBe(400);
    expect(other.json().error.message).toContain('app: expected "hello" (the app of the URL), got "billing"');
    expect(deploys.map((d) => d.body.version)).toEqual(['1.1.0']);
  });

  it('malformed JSON and a bad version: 400', async () => {
    const { server: s, clock, deploys } = setup();
    const bad = await generic(s, clock, '{"version":', { delivery: 'd-2' });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error.code).toBe('FERRY_E_WEBHOOK_PAYLOAD');
    const version = await generic(s, clock, '{"version":"../etc"}', { delivery: 'd-3' });
    expect(version.statusCode).toBe(400);
    expect(deploys).toEqual([]);
  });

  it('an oversized body: 413', async () => {
    const { server: s, clock, audits } = setup();
    const res = await generic(s, clock, JSON.stringify({ version: '1.1.0', changelog: 'x'.repeat(3000) }));
    expect(res.statusCode).toBe(413);
    expect(res.json().error.code).toBe('FERRY_E_BODY_TOO_LARGE');
    expect(audits).toMatchObject([{ action: 'webhook-refused' }]);
  });

  it('an unknown app (constructor too): 404', async () => {
    const { server: s } = setup();
    for (const name of ['nope', 'constructor']) {
      const res = await s.inject({ method: 'POST', url: `/hooks/generic/${name}`, payload: '{}' });
      expect(res.statusCode).toBe(404);
      expect(res.json().error.code).toBe('FERRY_E_APP_UNKNOWN');
    }
  });

  it('more deliveries than the rate limit from one address: 429, refilled over time', async () => {
    const { server: s, clock } = setup();
    const codes: number[] = [];
    for (let i = 0; i < 6; i++)
      codes.push((await s.inject({ method: 'POST', url: '/hooks/generic/nope' })).statusCode);
    expect(codes).toEqual([404, 404, 404, 404, 404, 429]);
    await clock.advance(12_000);
    expect((await s.inject({ method: 'POST', url: '/hooks/generic/nope' })).statusCode).toBe(404);
  });

  it('a url without a checksum for an app whose artifacts need one: 400', async () => {
    const remote = parseConfig(
      `
apps:
  hello:
    artifact: { url: "https://releases.example/hello-{version}.tar.gz", checksums: "https://releases.example/SHA256SUMS" }
    run: { command: node, args: [server.mjs] }
    listen: 8080
    triggers: { generic: { secret: ${SECRET} } }
`,
      { configPath: '/etc/ferry/ferry.yaml', env: { FERRY_HOME: '/var/lib/ferry' } },
    );
    const { server: s, clock, offers } = setup({ config: remote });
    const res = await generic(
      s,
      clock,
      JSON.stringify({ version: '1.5.0', url: 'https://cdn.example/x.tgz' }),
    );
    expect(res.statusCode).toBe(400);
    expect(res.json().error.message).toContain('checksum: expected one with url');
    expect(offers).toEqual([]);
  });

  it('a refused offer (another artifact for a recorded version) answers its error and the delivery may be retried', async () => {
    const { server: s, clock } = setup({
      refuse: new FerryError('FERRY_E_RELEASE_CONFLICT', 'release 1.1.0 of hello is already recorded'),
    });
    const res = await generic(s, clock, '{"version":"1.1.0"}');
    expect(res.statusCode).toBe(409);
    expect(res.json().error.code).toBe('FERRY_E_RELEASE_CONFLICT');
    expect((await generic(s, clock, '{"version":"1.1.0"}')).json().error.code).toBe(
      'FERRY_E_RELEASE_CONFLICT',
    );
  });

  it('a release with its own artifact: url and checksum offered; bad ones refused with 400', async () => {
    const { server: s, clock, offers } = setup();
    const sum = 'a'.repeat(64);
    const body = JSON.stringify({
      version: '1.4.0',
      env: 'production',
      url: 'https://cdn.example/h-1.4.0.tgz',
      checksum: sum,
    });
    expect((await generic(s, clock, body, { delivery: 'u-1' })).statusCode).toBe(202);
    expect(offers).toMatchObject([
      {
        version: '1.4.0',
        env: 'production',
        artifact: { url: 'https://cdn.example/h-1.4.0.tgz', checksum: `sha256:${sum}` },
        trigger: { kind: 'webhook', actor: 'webhook:generic:u-1' },
      },
    ]);
    for (const [i, bad] of [
      { version: '1.5.0', url: 'file:///etc/passwd' },
      { version: '1.5.0', url: 'ftp://host/x.tgz' },
      { version: '1.5.0', url: 'https://cdn.example/x.tgz', checksum: 'sha256:abc' },
      { version: '1.5.0', checksum: sum },
    ].entries()) {
      const res = await generic(s, clock, JSON.stringify(bad), { delivery: `bad-${i}` });
      expect(res.statusCode).toBe(400);
      expect(res.json().error.code).toBe('FERRY_E_WEBHOOK_PAYLOAD');
    }
    expect(offers).toHaveLength(1);
  });
});

/** A release event as GitHub documents it (trimmed). */
function releaseEvent(overrides: { action?: string; prerelease?: boolean; draft?: boolean } = {}) {
  return JSON.stringify({
    action: overrides.action ?? 'published',
    release: {
      tag_name: 'v1.2.0',
      name: 'v1.2.0',
      draft: overrides.draft ?? false,
      prerelease: overrides.prerelease ?? false,
      html_url: 'https://github.com/acme/hello/releases/tag/v1.2.0',
    },
    repository: { id: 1, name: 'hello', full_name: 'acme/hello' },
    sender: { login: 'octocat' },
  });
}

function github(
  s: FastifyInstance,
  event: string,
  body: string,
  opts: { delivery?: string; secret?: string } = {},
) {
  return s.inject({
    method: 'POST',
    url: '/hooks/github',
    headers: {
      'content-type': 'application/json',
      'x-github-event': event,
      'x-github-delivery': opts.delivery ?? '72d3162e-cc78-11e3-81ab-4c9367dc0958',
      'x-hub-signature-256': signPayload(opts.secret ?? GH_SECRET, body),
    },
    payload: body,
  });
}

describe('GitHub webhooks', () => {
  it('a published release deploys its tag without the leading v', async () => {
    const { server: s, deploys } = setup();
    const res = await github(s, 'release', releaseEvent());
    expect(res.statusCode).toBe(202);
    expect(deploys).toEqual([
      {
        body: { app: 'hello', version: '1.2.0' },
        actor: 'webhook:github:72d3162e-cc78-11e3-81ab-4c9367dc0958',
      },
    ]);
  });

  it("a release of a repository the app's watcher follows wakes the watcher instead (asset and checksum)", async () => {
    const watched = parseConfig(
      `
environments: { production: {} }
triggers: { listen: "127.0.0.1:7080" }
apps:
  hello:
    artifact: { url: "dist/hello-{version}.tar.gz" }
    run: { command: node, args: [server.mjs] }
    listen: 8080
    triggers:
      github: { secret: ${GH_SECRET}, repository: acme/hello }
    sources:
      github: { repository: Acme/Hello, asset: "hello-*.tar.gz" }
`,
      { configPath: '/etc/ferry/ferry.yaml', env: { FERRY_HOME: '/var/lib/ferry' } },
    );
    const polls: string[] = [];
    const { server: s, deploys, audits } = setup({ config: watched, polls });
    const res = await github(s, 'release', releaseEvent());
    expect(res.statusCode).toBe(202);
    expect(res.json()).toEqual({ accepted: true, app: 'hello', polled: 'github' });
    expect(polls).toEqual(['hello']);
    expect(deploys).toEqual([]);
    expect(audits.map((a) => a.action)).toEqual(['webhook-polled']);
  });

  it('ping answers 200; drafts, prereleases and other events are ignored with a reason', async () => {
    const { server: s, deploys } = setup();
    expect((await github(s, 'ping', releaseEvent(), { delivery: 'p' })).statusCode).toBe(200);
    for (const [i, [event, body]] of [
      ['release', releaseEvent({ prerelease: true })],
      ['release', releaseEvent({ action: 'created' })],
      ['issues', releaseEvent()],
    ].entries()) {
      const res = await github(s, event!, body!, { delivery: `i-${i}` });
      expect(res.statusCode).toBe(202);
      expect(res.json()).toMatchObject({ accepted: false });
    }
    expect(deploys).toEqual([]);
  });

  it('a push to the configured branch offers its head commit; other branches are ignored', async () => {
    const { server: s, offers } = setup();
    const sha = '0123456789abcdef0123456789abcdef01234567';
    const push = (ref: string) =>
      JSON.stringify({
        ref,
        before: '0'.repeat(40),
        after: sha,
        head_commit: { id: sha, timestamp: '2026-11-30T12:00:00+01:00' },
        repository: { full_name: 'acme/hello' },
      });
    expect((await github(s, 'push', push('refs/heads/main'), { delivery: 'p-1' })).statusCode).toBe(202);
    const other = await github(s, 'push', push('refs/heads/dev'), { delivery: 'p-2' });
    expect(other.json()).toMatchObject({ accepted: false });
    // Commits are not semver: their time orders them.
    expect(offers).toMatchObject([
      { version: '0123456789ab', artifact: null, publishedAt: Date.UTC(2026, 10, 30, 11) },
    ]);
  });

  it('a workflow run completed with success offers its head commit; failures and other workflows are ignored', async () => {
    const { server: s, offers } = setup();
    const run = (conclusion: string, name = 'build') =>
      JSON.stringify({
        action: 'completed',
        workflow_run: {
          name,
          head_sha: 'fedcba9876543210fedcba9876543210fedcba98',
          head_branch: 'main',
          conclusion,
        },
        repository: { full_name: 'acme/hello' },
      });
    expect((await github(s, 'workflow_run', run('success'), { delivery: 'w-1' })).statusCode).toBe(202);
    expect((await github(s, 'workflow_run', run('failure'), { delivery: 'w-2' })).json()).toMatchObject({
      accepted: false,
    });
    expect(
      (await github(s, 'workflow_run', run('success', 'lint'), { delivery: 'w-3' })).json(),
    ).toMatchObject({
      accepted: false,
    });
    expect(offers).toMatchObject([{ version: 'fedcba987654' }]);
  });

  it('a forged signature: 401, nothing deployed', async () => {
    const { server: s, deploys } = setup();
    const res = await github(s, 'release', releaseEvent(), { secret: 'wrong-secret-0123456789' });
    expect(res.statusCode).toBe(401);
    expect(deploys).toEqual([]);
  });
});

describe('registry webhooks', () => {
  const push = JSON.stringify({
    callback_url: 'https://registry.hub.docker.com/u/acme/hello/hook/abc/',
    push_data: { tag: '1.3.0', pusher: 'acme' },
    repository: { repo_name: 'acme/hello' },
  });

  it('a push with the token deploys the tag and answers the callback', async () => {
    const { server: s, deploys, callbacks } = setup();
    const res = await s.inject({
      method: 'POST',
      url: `/hooks/registry/hello/${TOKEN}`,
      payload: push,
      headers: { 'content-type': 'application/json' },
    });
    expect(res.statusCode).toBe(202);
    expect(deploys).toMatchObject([{ body: { app: 'hello', version: '1.3.0' } }]);
    await expect
      .poll(() => callbacks)
      .toMatchObject([
        {
          url: 'https://registry.hub.docker.com/u/acme/hello/hook/abc/',
          body: { state: 'success', context: 'ferry' },
        },
      ]);
  });

  it('a wrong token: 401, nothing deployed, no callback', async () => {
    const { server: s, deploys, callbacks } = setup();
    const res = await s.inject({ method: 'POST', url: '/hooks/registry/hello/wrong', payload: push });
    expect(res.statusCode).toBe(401);
    expect(deploys).toEqual([]);
    expect(callbacks).toEqual([]);
  });
});
