import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseConfig } from '../config/load.js';
import { isFerryError } from '../errors/ferry-error.js';
import { systemClock, type Clock } from '../lib/clock.js';
import { silentLogger } from '../lib/logger.js';
import { openSqliteStore } from '../store/sqlite/sqlite-store.js';
import type { Store } from '../store/store.js';
import { EventPublisher } from '../events/publisher.js';
import { FINAL_STATUSES } from '../engine/types.js';
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
let events: EventPublisher;

beforeEach(() => {
  store = openSqliteStore(':memory:');
  effects = new FakeEffects(store);
  time = 1_000;
  // Real ticks (nothing here waits on a deadline or a retry); every reading of the time differs, so
  // records keep their order.
  const clock: Clock = { ...systemClock, now: () => time++ };
  events = new EventPublisher({ now: () => clock.now() });
  deployer = new Deployer({
    config: { current: config },
    store,
    effects,
    logger: silentLogger(),
    clock,
    tickMs: 5,
    events,
  });
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
    events.subscribe((event) => {
      if (
        event.kind === 'deployment' &&
        event.deployment.id === id &&
        FINAL_STATUSES.has(event.deployment.status)
      )
        resolve(event.deployment.status);
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

  it('records what started each deployment: a webhook delivery, a watcher, a user; it persists', async () => {
    await history('1.0.0');
    const hooked = await deployer.deploy({ app: 'hello', version: '1.1.0', actor: 'webhook:github:7f3a9c' });
    expect(hooked.trigger).toEqual({ kind: 'webhook', actor: 'webhook:github:7f3a9c' });
    expect(await finished(hooked.id)).toBe('succeeded');
    expect((await store.getDeployment(hooked.id))?.trigger).toEqual({
      kind: 'webhook',
      actor: 'webhook:github:7f3a9c',
    });
    const watched = await deployer.deploy({ app: 'hello', version: '1.2.0', actor: 'watcher:github:o/r' });
    expect(watched.trigger).toEqual({ kind: 'watcher', actor: 'watcher:github:o/r' });
    expect(await finished(watched.id)).toBe('succeeded');
    const back = await deployer.rollback({ app: 'hello', actor: 'api' });
    expect((await store.getDeployment(back.id))?.trigger).toEqual({ kind: 'user', actor: 'api' });
    expect(await finished(back.id)).toBe('succeeded');
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

describe('Deployer.setCanaryWeight (ferry canary APP --weight P)', () => {
  async function inPhase(id: string, phase: string): Promise<void> {
    await new Promise<void>((resolve) => {
      const check = () => (deployer.run(id)?.current.phase === phase ? resolve() : setTimeout(check, 5));
      check();
    });
  }

  it("sets the running canary step's share: traffic, persisted state, event and audit with the actor", async () => {
    await history('1.0.0');
    const running = await deployer.deploy({
      app: 'hello',
      version: '1.1.0',
      strategy: 'canary',
      actor: 'cli',
    });
    await inPhase(running.id, 'shifting');
    const windows = effects.count('open-window ');
    const state = await deployer.setCanaryWeight('hello', undefined, 30, 'alice');
    expect(state).toMatchObject({ step: 0, weight: 30, weightOverride: { actor: 'alice' } });
    // Applied before the answer: the router has the new weights and the window was reopened.
    expect(effects.weights).toEqual({ '1.1.0': 30, '1.0.0': 70 });
    expect(effects.count('open-window ')).toBe(windows + 1);
    expect(await store.getDeployment(running.id)).toMatchObject({
      weight: 30,
      weightOverride: { actor: 'alice' },
    });
    expect((await store.listEvents(running.id)).map((e) => e.message)).toContainEqual(
      expect.stringMatching(/^canary step 1 set to 30% by alice \(was 10%, the step's own 10%\)/),
    );
    expect((await store.listAudit(10))[0]).toMatchObject({
      actor: 'alice',
      action: 'canary',
      target: 'hello.production',
      detail: { deployment: running.id, step: 0, weight: 30, previous: 10 },
    });
    await deployer.command('hello', undefined, 'abort', 'cli', { force: true });
  });

  it('refuses a weight outside 1-100% with FERRY_E_USAGE, and changes nothing', async () => {
    await history('1.0.0');
    const running = await deployer.deploy({
      app: 'hello',
      version: '1.1.0',
      strategy: 'canary',
      actor: 'cli',
    });
    await inPhase(running.id, 'shifting');
    const audits = (await store.listAudit(100)).length;
    for (const weight of [0, -10, 101, Number.NaN]) {
      const error = await thrown(deployer.setCanaryWeight('hello', undefined, weight, 'alice'));
      expect(isFerryError(error, 'FERRY_E_USAGE'), String(error)).toBe(true);
      expect((error as Error).message).toMatch(
        /^weight: expected a percentage of traffic like "10%" \(1-100\)/,
      );
    }
    const zero = await thrown(deployer.setCanaryWeight('hello', undefined, 0, 'alice'));
    expect((zero as Error).message).toMatch(
      /; to take all traffic off the canary: ferry abort hello --env production$/,
    );
    expect(deployer.run(running.id)?.current.weight).toBe(10);
    expect((await store.listAudit(100)).length).toBe(audits);
    await deployer.command('hello', undefined, 'abort', 'cli', { force: true });
  });

  it('refuses with FERRY_E_ILLEGAL_STATE when no canary is shifting, naming the state and a command', async () => {
    await history('1.0.0');
    const none = await thrown(deployer.setCanaryWeight('hello', undefined, 30, 'alice'));
    expect(isFerryError(none, 'FERRY_E_ILLEGAL_STATE')).toBe(true);
    expect((none as Error).message).toBe(
      'no deployment of hello in production is running; no canary share to set; start a canary with: ferry deploy hello VERSION --env production --strategy canary',
    );
    effects.failNext('retire', '1.0.0', Infinity);
    const blueGreen = await deployer.deploy({ app: 'hello', version: '1.1.0', actor: 'cli' });
    await inPhase(blueGreen.id, 'retiring');
    const refused = await thrown(deployer.setCanaryWeight('hello', undefined, 30, 'alice'));
    expect(isFerryError(refused, 'FERRY_E_ILLEGAL_STATE')).toBe(true);
    expect((refused as Error).message).toMatch(
      /^cannot set the canary weight: deployment d-\w+ is running \(phase retiring\): a blue-green deploy has no canary steps; to end it: ferry abort hello --env production --force$/,
    );
    await deployer.command('hello', undefined, 'abort', 'cli', { force: true });
  });
});

describe('Deployer.restart (ferry restart APP) and a forced deploy of the serving release', () => {
  it('replaces the serving release’s instances one batch at a time: new ones started before old ones retire', async () => {
    await history('1.1.0');
    const restart = await deployer.restart({ app: 'hello', actor: 'cli' });
    expect(restart).toMatchObject({
      kind: 'restart',
      from: '1.1.0',
      to: '1.1.0',
      replace: { old: ['1.1.0-old-0', '1.1.0-old-1'], batchSize: 1 },
    });
    expect(await finished(restart.id)).toBe('succeeded');
    const steps = effects.calls.filter((c) => /^(ensure-instances|retire-instances)/.test(c));
    expect(steps).toEqual([
      'ensure-instances 1.1.0',
      'retire-instances 1.1.0:1.1.0-old-0',
      'ensure-instances 1.1.0',
      'retire-instances 1.1.0:1.1.0-old-0,1.1.0-old-1',
    ]);
    // The release did not change: no verdict, no install.
    expect(effects.marks).toEqual([]);
    expect(effects.count('install 1.1.0')).toBe(0);
    expect((await store.listAudit(1))[0]).toMatchObject({ action: 'restart', target: 'hello.production' });
  });

  it('deploying the serving release again is refused without --force, naming restart; with it, it installs and restarts', async () => {
    await history('1.1.0');
    const refused = await thrown(deployer.deploy({ app: 'hello', version: '1.1.0', actor: 'cli' }));
    expect(isFerryError(refused, 'FERRY_E_ILLEGAL_STATE')).toBe(true);
    expect((refused as Error).message).toBe(
      '1.1.0 already serves hello in production; nothing to deploy (to replace its instances: ferry restart hello --env production; to deploy it again: --force)',
    );
    const forced = await deployer.deploy({ app: 'hello', version: '1.1.0', actor: 'cli', force: true });
    expect(forced).toMatchObject({ kind: 'deploy', replace: { batch: 0 } });
    expect(await finished(forced.id)).toBe('succeeded');
    expect(effects.count('install 1.1.0')).toBe(1);
    expect(effects.calls.filter((c) => c.startsWith('retire-instances'))).toHaveLength(2);
  });

  it('refuses a restart when nothing serves, or while a deployment runs', async () => {
    const nothing = await thrown(deployer.restart({ app: 'hello', actor: 'cli' }));
    expect((nothing as Error).message).toBe(
      'no release serves hello in production; nothing to restart (deploy one with: ferry deploy hello VERSION --env production)',
    );
    await history('1.0.0');
    effects.failNext('retire', '1.0.0', Infinity);
    const running = await deployer.deploy({ app: 'hello', version: '1.1.0', actor: 'cli' });
    const busy = await thrown(deployer.restart({ app: 'hello', actor: 'cli' }));
    expect(isFerryError(busy, 'FERRY_E_DEPLOYMENT_IN_PROGRESS')).toBe(true);
    const done = finished(running.id);
    await deployer.command('hello', undefined, 'abort', 'cli', { force: true });
    await done;
  });

  it('refuses every deployment of an environment on enrolled hosts: nothing of it runs on this host', async () => {
    const fleet = parseConfig(
      `environments: { production: { hosts: { role: web } } }
apps:
  hello:
    artifact: { url: "file:///releases/hello-{version}.tar.gz" }
    run: { command: node, args: [server.mjs] }
    listen: "127.0.0.1:18080"
`,
      { configPath: null },
    );
    const here = new Deployer({
      config: { current: fleet },
      store,
      effects,
      logger: silentLogger(),
      clock: systemClock,
      tickMs: 5,
      events,
    });
    const refusals = [
      here.deploy({ app: 'hello', env: 'production', version: '1.1.0', actor: 'cli' }),
      here.rollback({ app: 'hello', env: 'production', actor: 'cli' }),
      here.restart({ app: 'hello', env: 'production', actor: 'cli' }),
    ];
    for (const refusal of refusals) {
      const error = await thrown(refusal);
      expect(isFerryError(error, 'FERRY_E_USAGE')).toBe(true);
      expect((error as Error).message).toContain('production runs on enrolled hosts, not on this one');
    }
    expect(effects.calls).toEqual([]);
    expect(await store.listDeployments({})).toEqual([]);
    here.stop();
  });
});
