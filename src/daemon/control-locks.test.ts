import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseConfig } from '../config/load.js';
import { isFerryError } from '../errors/ferry-error.js';
import { EventPublisher } from '../events/publisher.js';
import { FakeClock } from '../lib/clock.js';
import { silentLogger } from '../lib/logger.js';
import { openSqliteKvStore, type SqliteKvStore } from '../store/kv/sqlite-kv.js';
import { openSqliteStore } from '../store/sqlite/sqlite-store.js';
import type { Store } from '../store/store.js';
import type { FerryEvent } from '../api/types.js';
import { assembleLocks, type ControlLocks } from './control-locks.js';

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

let clock: FakeClock;
let kv: SqliteKvStore;
let store: Store;
let locks: ControlLocks;
let published: FerryEvent[];

beforeEach(async () => {
  clock = new FakeClock(Date.UTC(2026, 10, 28, 10));
  kv = await openSqliteKvStore(':memory:', { clock });
  store = openSqliteStore(':memory:');
  const events = new EventPublisher({ now: () => clock.now() });
  published = [];
  events.subscribe((event) => published.push(event));
  locks = assembleLocks({ kv, clock, config: { current: config }, store, events, logger: silentLogger() });
  locks.startQueuedWith(() => Promise.resolve({ id: 'd-1' }));
  await locks.start();
});

afterEach(async () => {
  locks.stop();
  await kv.close();
  await store.close();
});

async function refusal(work: Promise<unknown>) {
  const error = await work.then(
    () => new Error('expected a refusal'),
    (e: unknown) => e,
  );
  if (!isFerryError(error)) throw error;
  return error;
}

/** Lets the store's watch deliver (no timers: a few turns of the event loop, bounded). */
async function until(check: () => boolean): Promise<void> {
  for (let turn = 0; turn < 100 && !check(); turn++) await new Promise((resolve) => setImmediate(resolve));
  expect(check()).toBe(true);
}

describe("the daemon's locks", () => {
  it('checks the target against the configuration and the TTL as written, changing nothing', async () => {
    const unknownEnv = await refusal(locks.lock({ env: 'prod', reason: 'x' }, 'api'));
    expect(unknownEnv.code).toBe('FERRY_E_ENV_UNKNOWN');
    const unknownApp = await refusal(locks.lock({ env: 'staging', app: 'web', reason: 'x' }, 'api'));
    expect(unknownApp.code).toBe('FERRY_E_APP_UNKNOWN');
    const ttl = await refusal(locks.lock({ env: 'production', reason: 'x', ttl: '8d' }, 'api'));
    expect(ttl.message).toBe('ttl: expected a duration from 1s to 7d like "2h" or "3d", got "8d"');
    expect(await kv.revision()).toBe(0);
  });

  it('audits each lock and unlock and publishes them as lock events, with the queued deploy', async () => {
    const { lock } = await locks.lock({ env: 'production', reason: 'release freeze', ttl: '90m' }, 'api');
    expect(lock.expiresAt - lock.createdAt).toBe(90 * 60_000);
    const held = await locks.port.holding('hello', 'production');
    await locks.port.enqueue(
      { app: 'hello', env: 'production', version: '1.1.0', strategy: null, force: false, actor: 'api' },
      held!,
    );
    expect((await locks.list({ env: 'production', app: 'hello' })).queued).toHaveLength(1);
    await locks.unlock({ env: 'production' }, 'bob');
    await until(() => published.some((e) => e.kind === 'lock' && e.change === 'queue-started'));
    const lockEvents = published.flatMap((e) =>
      e.kind === 'lock' ? [[e.change, e.app, e.env, e.message]] : [],
    );
    expect(lockEvents).toEqual([
      [
        'queued',
        'hello',
        'production',
        expect.stringMatching(
          /^the deploy of 1\.1\.0 queued by api waits: production is locked by api until 2026-11-28T11:30:00Z: release freeze$/,
        ),
      ],
      [
        'locked',
        null,
        'production',
        'production is locked by api until 2026-11-28T11:30:00Z: release freeze',
      ],
      ['unlocked', null, 'production', 'production was unlocked'],
      ['queue-started', 'hello', 'production', 'the deploy of 1.1.0 queued by api started: deployment d-1'],
    ]);
    const audit = (await store.listAudit(10)).map((a) => [
      a.actor,
      a.action,
      a.target,
      a.detail?.queued ?? null,
    ]);
    expect(audit).toEqual(
      expect.arrayContaining([
        ['api', 'lock', 'production', null],
        ['api', 'deploy', 'hello.production', 'queued'],
        ['bob', 'unlock', 'production', null],
        ['api', 'deploy', 'hello.production', 'started'],
      ]),
    );
  });
});
