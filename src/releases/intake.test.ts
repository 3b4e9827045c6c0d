import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import type { DeployResponse, FerryEvent } from '../api/types.js';
import { parseConfig } from '../config/load.js';
import type { ConfigSource } from '../config/types.js';
import { FerryError } from '../errors/ferry-error.js';
import { EventPublisher } from '../events/publisher.js';
import { FakeClock } from '../lib/clock.js';
import { silentLogger } from '../lib/logger.js';
import type { KvStore } from '../store/kv/kv.js';
import { openSqliteKvStore } from '../store/kv/sqlite-kv.js';
import type { AuditEntry, ReleaseStatus } from '../store/store.js';
import { KvReleaseIntake } from './intake.js';
import { KvReleaseCatalog } from './kv-catalog.js';
import type { ReleaseCandidate } from './release.js';

/** Monday 2026-11-30 12:00 UTC. */
const MONDAY_NOON = Date.UTC(2026, 10, 30, 12);
const dir = mkdtempSync(path.join(tmpdir(), 'ferry-intake-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function configOf(autoDeploy: string): ConfigSource {
  const yaml = `
apps:
  web:
    artifact: { url: "dist/web-{version}.tar.gz" }
    run: { command: node, args: [server.mjs] }
    listen: 8080
    triggers: { generic: { secret: "0123456789abcdef0" } }
    environments:
      production: { auto_deploy: ${autoDeploy} }
`;
  return {
    current: parseConfig(yaml, { configPath: path.join(dir, 'ferry.yaml'), env: { FERRY_HOME: dir } }),
  };
}

function candidate(version: string, over: Partial<ReleaseCandidate> = {}): ReleaseCandidate {
  return {
    app: 'web',
    version,
    artifact: null,
    changelog: null,
    publishedAt: null,
    env: null,
    trigger: { kind: 'webhook', actor: `webhook:generic:${version}` },
    ...over,
  };
}

/** The daemon's side as the intake sees it: a ledger, the current release, the deploy path. */
class World {
  readonly deploys: { version: string; actor: string }[] = [];
  readonly audits: AuditEntry[] = [];
  readonly statuses = new Map<string, ReleaseStatus>();
  current: string | undefined;
  refuse: string | null = null;
  queueBehind: string | null = null;
  readonly store = {
    getRelease: (_app: string, _env: string, version: string) => {
      const status = this.statuses.get(version);
      return Promise.resolve(status === undefined ? undefined : ({ status } as never));
    },
    getCurrent: () => Promise.resolve(this.current),
    audit: (entry: AuditEntry) => {
      this.audits.push(entry);
      return Promise.resolve();
    },
  };
  deploy = (
    request: { app: string; env: string; version: string },
    actor: string,
  ): Promise<DeployResponse> => {
    if (this.refuse !== null)
      return Promise.reject(new FerryError('FERRY_E_DEPLOYMENT_IN_PROGRESS', this.refuse));
    this.deploys.push({ version: request.version, actor });
    if (this.queueBehind !== null)
      return Promise.resolve({
        queued: { heldBy: { owner: this.queueBehind } },
        replaced: null,
      } as unknown as DeployResponse);
    this.current = request.version;
    return Promise.resolve({ deployment: { id: `d-${request.version}` } } as unknown as DeployResponse);
  };
}

const opened: { kv: KvStore; intake: KvReleaseIntake }[] = [];
afterEach(async () => {
  for (const { kv, intake } of opened.splice(0)) {
    await intake.stop();
    await kv.close();
  }
});

async function setUp(autoDeploy: string, kv?: KvStore) {
  const clock = new FakeClock(MONDAY_NOON);
  const store = kv ?? (await openSqliteKvStore(':memory:', { clock }));
  const world = new World();
  const events = new EventPublisher({ now: () => clock.now() });
  const published: FerryEvent[] = [];
  events.subscribe((event) => published.push(event));
  const make = () =>
    new KvReleaseIntake({
      kv: store,
      catalog: new KvReleaseCatalog(store),
      config: configOf(autoDeploy),
      store: world.store,
      deploy: world.deploy,
      clock,
      logger: silentLogger(),
      retry: { firstMs: 1_000, maxMs: 8_000, attempts: 5 },
      events,
    });
  const intake = make();
  await intake.start();
  opened.push({ kv: store, intake });
  return { clock, world, intake, kv: store, make, published };
}

describe('the release intake', () => {
  it('deploys a newer release at once with the trigger as actor, and records it', async () => {
    const { world, intake, published } = await setUp('true');
    world.current = '1.0.0';
    expect(await intake.offer(candidate('1.1.0'))).toEqual([
      { env: 'production', action: 'deployed', reason: null, deployment: 'd-1.1.0' },
    ]);
    expect(world.deploys).toEqual([{ version: '1.1.0', actor: 'webhook:generic:1.1.0' }]);
    expect(world.audits.map((a) => a.action)).toEqual(['release-recorded', 'release-deploy']);
    // The global event stream says the same.
    expect(published.map((e) => e.kind === 'release' && [e.env, e.change])).toEqual([
      [null, 'recorded'],
      ['production', 'deploying'],
    ]);
    // Offered again: it serves already.
    expect((await intake.offer(candidate('1.1.0')))[0]).toMatchObject({
      action: 'skipped',
      reason: expect.stringMatching(/serving already/),
    });
  });

  it('records but skips where auto_deploy is off, and a rolled-back release', async () => {
    const off = await setUp('false');
    expect((await off.intake.offer(candidate('2.0.0')))[0]).toBeUndefined();
    const named = await off.intake.offer(candidate('2.0.1', { env: 'production' }));
    expect(named[0]).toMatchObject({ action: 'skipped', reason: 'auto_deploy is off' });
    const on = await setUp('true');
    on.world.statuses.set('3.0.0', 'rolled-back');
    expect((await on.intake.offer(candidate('3.0.0')))[0]).toMatchObject({ action: 'skipped' });
    expect(on.world.deploys).toEqual([]);
  });

  it('a burst within the debounce deploys only the newest, once quiet', async () => {
    const { clock, world, intake } = await setUp('{ debounce: 30s }');
    for (const version of ['1.0.0', '1.2.0', '1.1.0']) {
      await intake.offer(candidate(version));
      await clock.advance(10_000);
    }
    expect(world.deploys).toEqual([]);
    expect((await intake.pending('web', 'production'))?.version).toBe('1.2.0');
    await clock.advance(30_000);
    expect(world.deploys.map((d) => d.version)).toEqual(['1.2.0']);
    expect(await intake.pending('web', 'production')).toBeNull();
  });

  it('waits for a window, across a restart, and deploys when it opens', async () => {
    const first = await setUp('{ windows: [{ cron: "0 18 * * *", duration: 1h }] }');
    const outcome = await first.intake.offer(candidate('4.0.0'));
    expect(outcome[0]).toMatchObject({
      action: 'waiting',
      reason: expect.stringMatching(/2026-11-30T18:00:00/),
    });
    await first.intake.stop();
    // A new intake on the same store (the daemon restarted) takes up what waits.
    const second = first.make();
    opened.push({ kv: first.kv, intake: second });
    await second.start();
    await first.clock.advance(5 * 3_600_000);
    expect(first.world.deploys).toEqual([]);
    await first.clock.advance(3_600_000);
    expect(first.world.deploys.map((d) => d.version)).toEqual(['4.0.0']);
  });

  it('a deploy refused while one runs is tried again with backoff', async () => {
    const { clock, world, intake } = await setUp('true');
    world.refuse = 'a deployment of web in production is running';
    expect((await intake.offer(candidate('5.0.0')))[0]).toMatchObject({ action: 'waiting' });
    await clock.advance(1_000);
    await clock.advance(2_000);
    expect(world.deploys).toEqual([]);
    world.refuse = null;
    await clock.advance(4_000);
    expect(world.deploys.map((d) => d.version)).toEqual(['5.0.0']);
  });

  it('a deploy queued behind a lock answers queued, and nothing waits in the intake', async () => {
    const { world, intake } = await setUp('true');
    world.queueBehind = 'alice';
    expect((await intake.offer(candidate('7.0.0')))[0]).toMatchObject({
      action: 'queued',
      reason: expect.stringMatching(/alice/),
    });
    expect(await intake.pending('web', 'production')).toBeNull();
    expect(world.audits.at(-1)).toMatchObject({ action: 'release-queued', actor: 'webhook:generic:7.0.0' });
  });

  it('gives up after its attempts: nothing waits for ever', async () => {
    const { clock, world, intake } = await setUp('true');
    world.refuse = 'running';
    await intake.offer(candidate('6.0.0'));
    await clock.advance(60_000);
    expect(await intake.pending('web', 'production')).toBeNull();
    expect(world.audits.at(-1)).toMatchObject({ action: 'release-skipped' });
  });
});
