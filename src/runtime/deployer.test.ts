import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseConfig } from '../config/load.js';
import { isFerryError } from '../errors/ferry-error.js';
import { systemClock, type Clock } from '../lib/clock.js';
import { silentLogger } from '../lib/logger.js';
import { openSqliteStore } from '../store/sqlite/sqlite-store.js';
import type { Store } from '../store/store.js';
import { Deployer } from './deployer.js';
import { FakeEffects } from './test-support/fake-effects.js';

const config = parseConfig(
  `apps:
  hello:
    artifact: { url: "file:///releases/hello-{version}.tar.gz" }
    run: { command: node, args: [server.mjs] }
    instances: 2
    listen: "127.0.0.1:18080"
`,
  { configPath: null },
);

let store: Store;
let effects: FakeEffects;
let deployer: Deployer;
let time: number;

beforeEach(() => {
  store = openSqliteStore(':memory:');
  effects = new FakeEffects(store);
  time = 1_000;
  // Real ticks (nothing here waits on a deadline or a retry); every reading of the time differs, so
  // records keep their order.
  const clock: Clock = { ...systemClock, now: () => time++ };
  deployer = new Deployer({ config, store, effects, logger: silentLogger(), clock, tickMs: 5 });
});

afterEach(async () => {
  deployer.stop();
  await store.close();
});

/** A ledger in which `versions` were deployed in turn; the last one is current and running. */
async function history(...versions: string[]): Promise<void> {
  for (const version of versions) {
    await store.upsertRelease({
      app: 'hello',
      env: 'production',
      version,
      artifactUrl: `file:///releases/hello-${version}.tar.gz`,
      checksum: null,
      createdAt: time++,
    });
    await store.markRelease('hello', 'production', version, 'good', 'deployed', time++);
  }
  await store.setCurrent('hello', 'production', versions.at(-1)!);
  effects.seed(versions.at(-1)!, 2);
}

async function finished(id: string) {
  return new Promise<string>((resolve) =>
    deployer.bus.on('finished', (state: { id: string; status: string }) => {
      if (state.id === id) resolve(state.status);
    }),
  );
}

async function thrown(work: Promise<unknown>): Promise<unknown> {
  return work.then(
    () => {
      throw new Error('expected a refusal');
    },
    (error: unknown) => error,
  );
}

describe('Deployer', () => {
  it('refuses a release the ledger marks bad, saying how to force it, and changes nothing', async () => {
    await history('1.0.0');
    await store.upsertRelease({
      app: 'hello',
      env: 'production',
      version: '2.0.1',
      artifactUrl: 'file:///releases/hello-2.0.1.tar.gz',
      checksum: null,
      createdAt: time++,
    });
    await store.markRelease(
      'hello',
      'production',
      '2.0.1',
      'bad',
      'canary step 1 at 10%: 9/10 errors',
      time++,
    );
    const error = await thrown(deployer.deploy({ app: 'hello', version: '2.0.1', actor: 'cli' }));
    expect(isFerryError(error, 'FERRY_E_RELEASE_BAD')).toBe(true);
    expect((error as Error).message).toBe(
      'release 2.0.1 of hello in production is marked bad: canary step 1 at 10%: 9/10 errors; deploy it anyway with: ferry deploy hello 2.0.1 --env production --force',
    );
    expect(await store.activeDeployment('hello', 'production')).toBeUndefined();

    const forced = await deployer.deploy({ app: 'hello', version: '2.0.1', actor: 'cli', force: true });
    const done = finished(forced.id);
    expect(await done).toBe('succeeded');
    expect((await store.listEvents(forced.id)).map((e) => e.message)).toContain(
      'deploying 2.0.1 although the ledger marks it bad (forced by cli): canary step 1 at 10%: 9/10 errors',
    );
  });

  it('a rollback marks the release it left rolled-back, so the next rollback goes further back', async () => {
    await history('1.0.0', '1.1.0', '1.2.0');
    const first = await deployer.rollback({ app: 'hello', actor: 'cli' });
    expect(first).toMatchObject({ from: '1.2.0', to: '1.1.0' });
    expect(await finished(first.id)).toBe('succeeded');
    expect(await store.getRelease('hello', 'production', '1.2.0')).toMatchObject({
      status: 'rolled-back',
      reason: `rolled back to 1.1.0 by deployment ${first.id}`,
    });
    const second = await deployer.rollback({ app: 'hello', actor: 'cli' });
    expect(second).toMatchObject({ from: '1.1.0', to: '1.0.0' });
    expect(await finished(second.id)).toBe('succeeded');
  });

  it('names the forced abort when a plain one cannot end the running deployment', async () => {
    await history('1.0.0');
    effects.failNext('retire', '1.0.0', Infinity);
    const running = await deployer.deploy({ app: 'hello', version: '1.1.0', actor: 'cli' });
    await new Promise<void>((resolve) => {
      const check = () =>
        deployer.run(running.id)?.current.phase === 'retiring' ? resolve() : setTimeout(check, 5);
      check();
    });
    const error = await thrown(deployer.deploy({ app: 'hello', version: '1.2.0', actor: 'cli' }));
    expect((error as Error).message).toMatch(
      /is running \(phase retiring\); wait for it, or end it at once with: ferry abort hello --env production --force$/,
    );
    const abort = await thrown(deployer.command('hello', undefined, 'abort', 'cli'));
    expect((abort as Error).message).toMatch(/ferry abort hello --env production --force/);
    const pauseForced = await thrown(deployer.command('hello', undefined, 'pause', 'cli', { force: true }));
    expect(isFerryError(pauseForced, 'FERRY_E_USAGE')).toBe(true);
    const done = finished(running.id);
    await deployer.command('hello', undefined, 'abort', 'cli', { force: true });
    expect(await done).toBe('succeeded');
    expect(await store.getCurrent('hello', 'production')).toBe('1.1.0');
  });
});
