import { afterEach, describe, expect, it } from 'vitest';
import { controlWith } from './test-support/control.js';
import { createApiServer } from '../api/server.js';
import type { ErrorResponse, ReleaseAddResponse, ReleasesResponse } from '../api/types.js';
import { parseConfig } from '../config/load.js';
import { silentLogger } from '../lib/logger.js';
import type { ReleasesControl, WaitingReleaseView } from '../releases/recorder.js';
import type { CatalogEntry, ReleaseCandidate } from '../releases/release.js';
import { openSqliteStore } from '../store/sqlite/sqlite-store.js';
import type { Store } from '../store/store.js';

const TOKEN = 'api-token-for-the-test';
const auth = { authorization: `Bearer ${TOKEN}` };
const SHA = `sha256:${'ab'.repeat(32)}`;

const config = parseConfig(
  `environments: { production: {}, staging: {} }
apps:
  hello:
    artifact: { url: "file:///releases/hello-{version}.tar.gz" }
    run: { command: node, args: [server.mjs] }
    listen: "127.0.0.1:18080"
    environments: { staging: { listen: "127.0.0.1:18081" } }
`,
  { configPath: null },
);

/**
 * The intake's contract kept in memory (the real intake is tested in src/releases/): offers are
 * recorded and "deployed" to the environment named, or to every one; records deploy nothing.
 */
class MemoryReleases implements ReleasesControl {
  waiting(): Promise<readonly WaitingReleaseView[]> {
    return Promise.resolve([]);
  }

  readonly offered: ReleaseCandidate[] = [];
  readonly recorded: ReleaseCandidate[] = [];
  private readonly entries = new Map<string, CatalogEntry>();
  private now = 1_000;

  readonly intake = {
    offer: (candidate: ReleaseCandidate) => {
      this.offered.push(candidate);
      this.keep(candidate);
      const envs = candidate.env === null ? ['production', 'staging'] : [candidate.env];
      return Promise.resolve(
        envs.map((env) => ({ env, action: 'deployed' as const, reason: null, deployment: `d-${env}` })),
      );
    },
  };

  readonly catalog = {
    get: (app: string, version: string) => Promise.resolve(this.entries.get(`${app}@${version}`)),
    list: (app: string, opts?: { readonly limit?: number }) =>
      Promise.resolve(
        [...this.entries.values()]
          .filter((e) => e.app === app)
          .sort((a, b) => b.recordedAt - a.recordedAt)
          .slice(0, opts?.limit),
      ),
  };

  record(candidate: ReleaseCandidate): Promise<CatalogEntry> {
    this.recorded.push(candidate);
    return Promise.resolve(this.keep(candidate));
  }

  private keep(candidate: ReleaseCandidate): CatalogEntry {
    const { env: _env, ...entry } = candidate;
    const kept = { ...entry, recordedAt: this.now++ };
    this.entries.set(`${candidate.app}@${candidate.version}`, kept);
    return kept;
  }
}

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function setup() {
  const store: Store = openSqliteStore(':memory:');
  const releases = new MemoryReleases();
  const control = controlWith('release routes', { config: { current: config }, store, releases });
  const api = createApiServer({ control, token: TOKEN, logger: silentLogger() });
  cleanups.push(
    () => store.close(),
    () => api.close(),
  );
  const call = async <T>(
    method: 'GET' | 'POST',
    url: string,
    payload?: unknown,
    headers: Record<string, string> = auth,
  ) => {
    const response = await api.inject({ method, url, headers, ...(payload ? { payload } : {}) });
    return { status: response.statusCode, body: response.json<T>(), text: response.body };
  };
  return { store, releases, call };
}

describe('POST /v1/apps/:app/releases (ferry release add)', () => {
  it('offers the release to the intake as the API user, answers it with its URL redacted and the outcomes', async () => {
    const { call, releases } = setup();
    const added = await call<ReleaseAddResponse>('POST', '/v1/apps/hello/releases', {
      version: '1.2.0',
      url: 'https://ci:hunter22@example.com/hello-{version}.tar.gz?X-Amz-Signature=s3cr3t',
      checksum: SHA,
      changelog: 'Faster',
      env: 'staging',
    });
    expect(added.status).toBe(201);
    expect(releases.offered).toEqual([
      {
        app: 'hello',
        version: '1.2.0',
        artifact: {
          url: 'https://ci:hunter22@example.com/hello-1.2.0.tar.gz?X-Amz-Signature=s3cr3t',
          checksum: SHA,
        },
        changelog: 'Faster',
        publishedAt: null,
        env: 'staging',
        trigger: { kind: 'user', actor: 'api' },
      },
    ]);
    expect(added.body).toEqual({
      release: {
        app: 'hello',
        version: '1.2.0',
        artifact: { url: 'https://example.com/hello-1.2.0.tar.gz?X-Amz-Signature=***', checksum: SHA },
        changelog: 'Faster',
        publishedAt: null,
        recordedAt: 1_000,
        trigger: { kind: 'user', actor: 'api' },
      },
      outcomes: [{ env: 'staging', action: 'deployed', reason: null, deployment: 'd-staging' }],
    });
    expect(added.text).not.toContain('hunter22');
    expect(added.text).not.toContain('s3cr3t');
  });

  it('with deploy: false records the release only: nothing offered, no outcomes', async () => {
    const { call, releases } = setup();
    const added = await call<ReleaseAddResponse>('POST', '/v1/apps/hello/releases', {
      version: '1.3.0',
      deploy: false,
    });
    expect(added.status).toBe(201);
    expect(added.body).toMatchObject({ release: { version: '1.3.0', artifact: null }, outcomes: [] });
    expect(releases.offered).toEqual([]);
    expect(releases.recorded).toMatchObject([{ version: '1.3.0', env: null, trigger: { kind: 'user' } }]);
  });

  it.each([
    [{ version: '../etc' }, 'body.version', 'FERRY_E_USAGE'],
    [{ version: 'current' }, 'body.version', 'FERRY_E_USAGE'],
    [{}, 'body.version', 'FERRY_E_USAGE'],
    [{ version: '1.0.0', url: 'ftp://example.com/a.tar.gz' }, 'body.url', 'FERRY_E_USAGE'],
    [{ version: '1.0.0', url: 'not a url' }, 'body.url', 'FERRY_E_USAGE'],
    [
      { version: '1.0.0', url: 'https://e.com/a.tgz', checksum: 'sha256:zz' },
      'body.checksum',
      'FERRY_E_USAGE',
    ],
    [{ version: '1.0.0', checksum: SHA }, 'body.checksum', 'FERRY_E_USAGE'],
    [{ version: '1.0.0', deploy: 'no' }, 'body.deploy', 'FERRY_E_USAGE'],
    [{ version: '1.0.0', extra: 1 }, 'body', 'FERRY_E_USAGE'],
    [{ version: '1.0.0', env: 'prod' }, 'prod', 'FERRY_E_ENV_UNKNOWN'],
  ])('refuses %j naming %s, and records nothing', async (payload, named, code) => {
    const { call, releases } = setup();
    const refused = await call<ErrorResponse>('POST', '/v1/apps/hello/releases', payload);
    expect(refused.status).toBe(code === 'FERRY_E_ENV_UNKNOWN' ? 404 : 400);
    expect(refused.body.error.code).toBe(code);
    expect(refused.body.error.message).toContain(named);
    expect(releases.offered).toEqual([]);
    expect(releases.recorded).toEqual([]);
  });

  it('answers 404 for an unknown app and 401 without the token, recording nothing', async () => {
    const { call, releases } = setup();
    const unknown = await call<ErrorResponse>('POST', '/v1/apps/constructor/releases', { version: '1.0.0' });
    expect(unknown.status).toBe(404);
    expect(unknown.body.error.code).toBe('FERRY_E_APP_UNKNOWN');
    const anonymous = await call<ErrorResponse>('POST', '/v1/apps/hello/releases', { version: '1.0.0' }, {});
    expect(anonymous.status).toBe(401);
    expect(anonymous.body.error.code).toBe('FERRY_E_UNAUTHORIZED');
    expect(releases.offered).toEqual([]);
  });
});

describe('GET /v1/apps/:app/releases (ferry releases)', () => {
  it("lists the catalog newest first with each environment's ledger status and the one serving", async () => {
    const { call, store } = setup();
    await call('POST', '/v1/apps/hello/releases', { version: '1.0.0' });
    await call('POST', '/v1/apps/hello/releases', { version: '1.1.0', deploy: false });
    for (const [version, status] of [
      ['1.0.0', 'good'],
      ['1.1.0', 'bad'],
    ] as const) {
      await store.upsertRelease({
        app: 'hello',
        env: 'production',
        version,
        artifactUrl: `file:///releases/hello-${version}.tar.gz`,
        checksum: null,
        createdAt: 5,
      });
      await store.markRelease('hello', 'production', version, status, 'test', 6);
    }
    await store.setCurrent('hello', 'production', '1.0.0');
    const listed = await call<ReleasesResponse>('GET', '/v1/apps/hello/releases?limit=5');
    expect(listed.status).toBe(200);
    expect(listed.body.releases.map((r) => [r.version, r.environments])).toEqual([
      [
        '1.1.0',
        [
          { env: 'production', status: 'bad', current: false },
          { env: 'staging', status: null, current: false },
        ],
      ],
      [
        '1.0.0',
        [
          { env: 'production', status: 'good', current: true },
          { env: 'staging', status: null, current: false },
        ],
      ],
    ]);
    const one = await call<ReleasesResponse>('GET', '/v1/apps/hello/releases?limit=1');
    expect(one.body.releases.map((r) => r.version)).toEqual(['1.1.0']);
    const bad = await call<ErrorResponse>('GET', '/v1/apps/hello/releases?limit=0');
    expect(bad.status).toBe(400);
    expect(bad.body.error.message).toContain('query.limit');
    expect((await call<ErrorResponse>('GET', '/v1/apps/nope/releases')).status).toBe(404);
  });
});
