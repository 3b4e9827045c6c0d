import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { waitFor } from '../../../test/support/wait.js';
import type { FerryConfig } from '../../config/types.js';
import { FerryError } from '../../errors/ferry-error.js';
import { FakeClock } from '../../lib/clock.js';
import { openSqliteKvStore } from '../../store/kv/sqlite-kv.js';
import type { KvStore } from '../../store/kv/kv.js';
import { startReleaseSources } from '../release-sources.js';
import { RecordingIntake, capturingLogger, configWithSources } from '../test-support/harness.js';
import { FakeGithub } from './test-support/fake-github.js';

const TOKEN = 'ghp_s3cretT0kenValue0123456789';
const dir = mkdtempSync(path.join(tmpdir(), 'ferry-sources-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');
const tarball = (version: string) => `tarball of ${version}`;

/** A release as CI publishes it: the tarball and a SHA256SUMS listing it. */
function release(version: string, extra: Partial<Parameters<FakeGithub['publish']>[1]> = {}) {
  const name = `hello-${version}.tar.gz`;
  return {
    tag: `v${version}`,
    body: `Notes for ${version}`,
    assets: [
      { name, content: tarball(version) },
      { name: 'SHA256SUMS', content: `${sha256(tarball(version))}  ${name}\n${sha256('x')}  other.txt\n` },
      { name: 'SHA256SUMS.asc', content: '-----BEGIN PGP SIGNATURE-----' },
    ],
    ...extra,
  };
}

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function setup(
  opts: {
    settings?: string;
    github?: FakeGithub;
    kv?: KvStore;
    env?: NodeJS.ProcessEnv;
    clock?: FakeClock;
    intake?: RecordingIntake;
  } = {},
) {
  const github = opts.github ?? (await new FakeGithub().start());
  if (opts.github === undefined) cleanups.push(() => github.close());
  const kv = opts.kv ?? (await openSqliteKvStore(':memory:'));
  if (opts.kv === undefined) cleanups.push(() => kv.close());
  const clock = opts.clock ?? new FakeClock(Date.now());
  const intake = opts.intake ?? new RecordingIntake();
  const { logger, lines } = capturingLogger();
  const config: { current: FerryConfig } = {
    current: configWithSources(
      `    sources:
      github:
        repository: acme/hello
        asset: "hello-*.tar.gz"
        base_url: ${github.baseUrl}
${(opts.settings ?? '').replace(/^/gm, '        ')}`,
      { dir, ...(opts.env ? { env: opts.env } : {}) },
    ),
  };
  const sources = startReleaseSources({ config, kv, intake, clock, logger });
  let stopped = false;
  const stop = async () => {
    if (!stopped) await sources.stop();
    stopped = true;
  };
  cleanups.push(stop);
  return { github, kv, clock, intake, lines, config, sources, stop };
}

const listPath = '/repos/acme/hello/releases';

describe('GitHub releases watcher (real octokit, a local GitHub)', () => {
  it('a new release is offered with its asset URL and the sha256 from SHA256SUMS', async () => {
    const { github, intake, sources } = await setup();
    github.publish('acme/hello', release('1.0.0'));
    await sources.pollNow('hello');
    expect(intake.offers).toEqual([
      {
        app: 'hello',
        version: '1.0.0',
        artifact: {
          url: `${github.origin}/acme/hello/releases/download/v1.0.0/hello-1.0.0.tar.gz`,
          checksum: `sha256:${sha256(tarball('1.0.0'))}`,
        },
        changelog: 'Notes for 1.0.0',
        publishedAt: expect.any(Number) as number,
        env: null,
        trigger: { kind: 'watcher', actor: 'watcher:github:acme/hello' },
      },
    ]);
    github.publish('acme/hello', release('1.1.0'));
    await sources.pollNow('hello');
    expect(intake.versions()).toEqual(['1.0.0', '1.1.0']);
  });

  it('a poll with nothing new sends If-None-Match, gets 304 and spends no rate limit', async () => {
    const { github, intake, sources } = await setup();
    github.publish('acme/hello', release('1.0.0'));
    await sources.pollNow('hello');
    const used = github.rateUsed;
    await sources.pollNow('hello');
    await sources.pollNow('hello');
    const [first, second, third] = github.requests(listPath);
    expect(first?.headers['if-none-match']).toBeUndefined();
    expect(second?.headers['if-none-match']).toMatch(/^W\/"/);
    expect([second?.status, third?.status]).toEqual([304, 304]);
    expect(github.rateUsed).toBe(used);
    expect(intake.versions()).toEqual(['1.0.0']);
  });

  it('a first poll offers only the newest; a burst is offered in semver order, oldest first', async () => {
    const { github, intake, sources } = await setup();
    github.publish('acme/hello', release('0.9.0'));
    github.publish('acme/hello', release('1.0.0'));
    await sources.pollNow('hello');
    expect(intake.versions()).toEqual(['1.0.0']);
    // Published out of order: 1.10.0 before 1.2.0 (a backport); an older patch comes last.
    github.publish('acme/hello', release('1.10.0'));
    github.publish('acme/hello', release('1.2.0'));
    github.publish('acme/hello', release('0.9.1'));
    github.publish('acme/hello', release('1.9.0'));
    await sources.pollNow('hello');
    expect(intake.versions()).toEqual(['1.0.0', '1.2.0', '1.9.0', '1.10.0']);
  });

  it('releases without one matching asset or with an unusable SHA256SUMS are skipped with a reason', async () => {
    const { github, intake, sources, lines } = await setup();
    github.publish('acme/hello', release('1.0.0'));
    await sources.pollNow('hello');
    github.publish('acme/hello', {
      tag: 'v1.1.0',
      assets: [
        { name: 'hello-1.1.0.tar.gz', content: 'x' },
        { name: 'SHA256SUMS', content: `${sha256('x')}  something-else.tar.gz\n` },
      ],
    });
    await sources.pollNow('hello');
    github.publish('acme/hello', {
      tag: 'v1.2.0',
      assets: [
        { name: 'hello-1.2.0.tar.gz', content: 'x' },
        { name: 'SHA256SUMS', content: 'this is not a checksums file\n' },
      ],
    });
    await sources.pollNow('hello');
    github.publish('acme/hello', { tag: 'v1.3.0', assets: [{ name: 'README.md', content: 'x' }] });
    await sources.pollNow('hello');
    expect(intake.versions()).toEqual(['1.0.0']);
    const skipped = lines.filter((l) => l.includes('release skipped')).join('\n');
    expect(skipped).toContain('expected an entry for \\"hello-1.1.0.tar.gz\\"');
    expect(skipped).toContain('SHA256SUMS line 1: expected \\"<hex>  <file name>\\"');
    expect(skipped).toContain('expected exactly one asset matching \\"hello-*.tar.gz\\", got 0');
  });

  it('without a checksums asset: offered without a checksum, or skipped when require_checksum is set', async () => {
    const loose = await setup();
    loose.github.publish('acme/hello', {
      tag: 'v1.0.0',
      assets: [{ name: 'hello-1.0.0.tar.gz', content: 'x' }],
    });
    await loose.sources.pollNow('hello');
    expect(loose.intake.offers[0]?.artifact).toEqual({
      url: `${loose.github.origin}/acme/hello/releases/download/v1.0.0/hello-1.0.0.tar.gz`,
      checksum: null,
    });

    const strict = await setup({ settings: 'require_checksum: true' });
    strict.github.publish('acme/hello', {
      tag: 'v1.0.0',
      assets: [{ name: 'hello-1.0.0.tar.gz', content: 'x' }],
    });
    await strict.sources.pollNow('hello');
    expect(strict.intake.offers).toEqual([]);
    expect(strict.lines.join('\n')).toContain('require_checksum is set');
  });

  it('drafts and prereleases are skipped unless asked for; a tag that cannot be a version is skipped', async () => {
    const plain = await setup();
    plain.github.publish('acme/hello', release('1.0.0'));
    await plain.sources.pollNow('hello');
    plain.github.publish('acme/hello', release('1.1.0-rc.1', { prerelease: true }));
    plain.github.publish('acme/hello', release('1.2.0', { draft: true }));
    plain.github.publish('acme/hello', release('1.3.0', { tag: 'release/1.3.0' }));
    await plain.sources.pollNow('hello');
    expect(plain.intake.versions()).toEqual(['1.0.0']);
    expect(plain.lines.join('\n')).toContain('release/1.3.0');

    const eager = await setup({ settings: 'prereleases: true\ndrafts: true' });
    eager.github.publish('acme/hello', release('1.0.0'));
    await eager.sources.pollNow('hello');
    eager.github.publish('acme/hello', release('1.1.0-rc.1', { prerelease: true }));
    eager.github.publish('acme/hello', release('1.2.0', { draft: true }));
    await eager.sources.pollNow('hello');
    expect(eager.intake.versions()).toEqual(['1.0.0', '1.1.0-rc.1', '1.2.0']);
  });

  it('a spent rate limit: no request before its reset, then polling resumes', async () => {
    const { github, clock, intake, sources } = await setup();
    const reset = Math.floor(clock.now() / 1000) + 600;
    github.exhaustedUntil = reset;
    await sources.pollNow('hello');
    expect(github.requests(listPath).map((r) => r.status)).toEqual([403]);
    expect(sources.nextPollAt('hello', 'github')).toBe(reset * 1000);

    github.exhaustedUntil = null;
    github.publish('acme/hello', release('1.0.0'));
    await clock.advance(reset * 1000 - clock.now() - 1000);
    expect(sources.nextPollAt('hello', 'github')).toBe(reset * 1000);
    expect(github.requests(listPath)).toHaveLength(1);
    await clock.advance(1000);
    await waitFor('the poll after the reset', () => intake.offers.length === 1);
    expect(github.requests(listPath).map((r) => r.status)).toEqual([403, 200]);
  });

  it('5xx answers back off exponentially; the watcher recovers', async () => {
    const { github, clock, intake, sources, lines } = await setup();
    github.failNext = { count: 3, status: 502 };
    github.publish('acme/hello', release('1.0.0'));
    const start = clock.now();
    await sources.pollNow('hello');
    expect(sources.nextPollAt('hello', 'github')).toBe(start + 120_000);
    for (const wait of [120_000, 240_000]) {
      const before = github.requests(listPath).length;
      await clock.advance(wait);
      await waitFor('the retry', () => github.requests(listPath).length === before + 1);
      await waitFor(
        'the next backoff',
        () => sources.nextPollAt('hello', 'github') === clock.now() + wait * 2,
      );
    }
    await clock.advance(480_000);
    await waitFor('the recovered poll', () => intake.offers.length === 1);
    await waitFor('the interval again', () => sources.nextPollAt('hello', 'github') === clock.now() + 60_000);
    expect(lines.filter((l) => l.includes('release source poll failed'))).toHaveLength(3);
    expect(lines.join('\n')).toContain('GitHub answered 502');
  });

  it('an intake failure is retried at the next poll; a conflict is not', async () => {
    const { github, intake, sources } = await setup();
    github.publish('acme/hello', release('1.0.0'));
    intake.failWith = new Error('store unreachable');
    await sources.pollNow('hello');
    intake.failWith = null;
    await sources.pollNow('hello');
    expect(intake.versions()).toEqual(['1.0.0']);
    // A burst whose second offer fails: the first is not offered again, the rest are.
    github.publish('acme/hello', release('1.0.1'));
    github.publish('acme/hello', release('1.0.2'));
    github.publish('acme/hello', release('1.0.3'));
    intake.failWith = new Error('store unreachable');
    intake.failOnly.add('1.0.2');
    await sources.pollNow('hello');
    expect(intake.versions()).toEqual(['1.0.0', '1.0.1']);
    intake.failWith = null;
    await sources.pollNow('hello');
    expect(intake.versions()).toEqual(['1.0.0', '1.0.1', '1.0.2', '1.0.3']);
    github.publish('acme/hello', release('1.1.0'));
    intake.failOnly.clear();
    intake.failWith = new FerryError('FERRY_E_RELEASE_CONFLICT', 'recorded with another checksum', {});
    await sources.pollNow('hello');
    intake.failWith = null;
    await sources.pollNow('hello');
    expect(intake.versions()).toEqual(['1.0.0', '1.0.1', '1.0.2', '1.0.3']);
  });

  it('the cursor survives a restart (SQLite store): nothing is offered twice', async () => {
    const github = await new FakeGithub().start();
    cleanups.push(() => github.close());
    const file = path.join(mkdtempSync(path.join(dir, 'kv-')), 'store.db');
    const intake = new RecordingIntake();
    github.publish('acme/hello', release('1.0.0'));
    const kv1 = await openSqliteKvStore(file);
    const first = await setup({ github, kv: kv1, intake });
    await first.sources.pollNow('hello');
    await first.stop();
    await kv1.close();

    github.publish('acme/hello', release('1.1.0'));
    const kv2 = await openSqliteKvStore(file);
    cleanups.push(() => kv2.close());
    const second = await setup({ github, kv: kv2, intake });
    await second.sources.pollNow('hello');
    await second.sources.pollNow('hello');
    expect(intake.versions()).toEqual(['1.0.0', '1.1.0']);
    expect(github.requests(listPath).at(-1)?.status).toBe(304);
  });

  it('GitHub Enterprise with a token: the token is sent, never logged; the artifact is the API URL', async () => {
    const github = await new FakeGithub({ token: TOKEN, basePath: '/api/v3' }).start();
    cleanups.push(() => github.close());
    github.publish('acme/hello', release('1.0.0'));
    const good = await setup({ github, settings: 'token_env: GH_TOKEN', env: { GH_TOKEN: TOKEN } });
    await good.sources.pollNow('hello');
    expect(good.intake.offers[0]?.artifact).toEqual({
      url: `${github.origin}/api/v3/repos/acme/hello/releases/assets/${1001}`,
      checksum: `sha256:${sha256(tarball('1.0.0'))}`,
    });
    expect(github.requests(listPath)[0]?.headers.authorization).toBe(`token ${TOKEN}`);
    expect(JSON.stringify(good.config.current.apps.hello?.sources)).not.toContain(TOKEN);

    const bad = await setup({
      github,
      settings: 'token_env: GH_TOKEN',
      env: { GH_TOKEN: `${TOKEN}-revoked` },
    });
    await bad.sources.pollNow('hello');
    expect(bad.intake.offers).toEqual([]);
    const logged = [...good.lines, ...bad.lines].join('\n');
    expect(logged).toContain('GitHub answered 401');
    expect(logged).not.toContain(TOKEN);
  });

  it('follows ferry apply: a source removed stops, one added starts', async () => {
    const { github, config, clock, intake, sources } = await setup();
    github.publish('acme/hello', release('1.0.0'));
    await sources.pollNow('hello');
    const withSources = config.current;
    config.current = configWithSources('', { dir });
    await clock.advance(5_000);
    await waitFor('the source to stop', () => sources.nextPollAt('hello', 'github') === null);
    const seen = github.requests(listPath).length;
    await clock.advance(600_000);
    expect(github.requests(listPath)).toHaveLength(seen);
    config.current = withSources;
    github.publish('acme/hello', release('1.1.0'));
    await clock.advance(5_000);
    await waitFor('the source to start again', () => intake.offers.length === 2);
  });
});
