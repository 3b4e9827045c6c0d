import { afterEach, describe, expect, it } from 'vitest';
import { parseConfig } from '../../config/load.js';
import type { FerryConfig } from '../../config/types.js';
import { FakeClock } from '../../lib/clock.js';
import { labelsOf } from '../../lib/labels.js';
import type { AppReport, HostReport } from '../../protocol/report.js';
import { openSqliteKvStore } from '../../store/kv/sqlite-kv.js';
import type { KvStore } from '../../store/kv/kv.js';
import type { HostExchange } from '../agent-api/host-exchange.js';
import { fleetOnRealParts, runningInstance } from './test-support/fleet-parts.js';

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function config(strategy: string, rollout = '{ batch: 1, soak: 1s, deadline: 60s }'): FerryConfig {
  return parseConfig(
    [
      'environments: { production: { hosts: { role: web } } }',
      'apps:',
      '  web:',
      '    artifact: { url: "https://releases.example/web-{version}.tar.gz", require_checksum: false }',
      '    run: { command: node, args: [server.mjs] }',
      '    instances: 1',
      '    listen: "0.0.0.0:8080"',
      `    strategy: ${strategy}`,
      `    rollout: ${rollout}`,
    ].join('\n'),
    { configPath: null, env: {} },
  );
}

const CANARY =
  '{ kind: canary, steps: [{ weight: 20%, pause: 2s }, { weight: 60%, pause: 2s }], analysis: { max_error_rate: 5%, min_requests: 10, max_wait: 30s } }';

/** Requests each host's router sees per simulated 100 ms. */
const REQUESTS_PER_TICK = 10;

/**
 * A host that does what its desired state says, at once, and reports it: its releases installed,
 * their instances healthy, the weights as its route's, the tasks passed, and its router's counters
 * growing with traffic shared by weight (the releases in `failing` answer every request with an
 * error). Fed to the fleet on its real parts (key-value store, trust, exchange, desired states).
 */
class ObedientHost {
  private readonly counters = new Map<string, { requests: number; errors: number }>();
  private readonly epoch = `e${Math.random()}`;
  /** The weights each report carried, in order (what the host's traffic went through). */
  readonly splits: string[] = [];
  /** A host that went away: it reports nothing. */
  silent = false;

  constructor(
    readonly id: string,
    private readonly exchange: HostExchange,
    private readonly clock: FakeClock,
    readonly failing: Set<string> = new Set(),
  ) {}

  async report(): Promise<void> {
    if (this.silent) return;
    const doc = await this.exchange.desiredState(this.id);
    const app = doc?.apps.find((a) => a.app === 'web');
    const releases = app?.releases ?? [];
    const total = releases.reduce((sum, r) => sum + r.weight, 0);
    for (const r of releases) {
      const share = total === 0 ? 0 : Math.round((REQUESTS_PER_TICK * r.weight) / total);
      const c = this.counters.get(r.version) ?? { requests: 0, errors: 0 };
      c.requests += share;
      if (this.failing.has(r.version)) c.errors += share;
      this.counters.set(r.version, c);
    }
    const traffic = releases.map((r) => ({ version: r.version, weight: r.weight }));
    const split = traffic
      .filter((t) => t.weight > 0)
      .map((t) => `${t.version}:${Math.round((100 * t.weight) / total)}`)
      .join(' ');
    if (this.splits.at(-1) !== split) this.splits.push(split);
    const mine: AppReport = {
      app: 'web',
      env: 'production',
      releases: releases.map((r) => ({ version: r.version, install: 'installed' as const })),
      instances: releases.flatMap((r) =>
        Array.from({ length: r.instances }, (_, n) =>
          runningInstance(`${this.id}-${r.version}-${n}`, r.version),
        ),
      ),
      current: app?.current ?? null,
      traffic,
      route: {
        // Each simulated router starts its counters afresh (a host restarted in the test).
        epoch: this.epoch,
        releases: [...this.counters].map(([version, c]) => ({ version, ...c })),
        outcomes: { releases: [], held: 0, rejected: 0, abandoned: 0 },
      },
      tasks: (app?.tasks ?? []).map((t) => ({ id: t.id, state: 'passed' as const })),
    };
    const body: HostReport = {
      host: this.id,
      agentVersion: 'test',
      revision: doc?.revision ?? 0,
      at: this.clock.now(),
      labels: {},
      apps: app ? [mine] : [],
    };
    this.exchange.receiveReport(this.id, body, { address: 'test', bytes: 0 });
  }
}

async function setup(
  strategy: string,
  opts: { kv?: KvStore; clock?: FakeClock; enrolled?: readonly string[]; rollout?: string } = {},
) {
  const { rollout: options, ...rest } = opts;
  const parts = await fleetOnRealParts({ config: config(strategy, options), ...rest, hostTickMs: 100 });
  const { clock, kv, exchange, fleet, store, trust } = parts;
  cleanups.push(parts.close);
  const { token } = await trust.createJoinToken({ ttlMs: 60_000, uses: 10 });
  const enroll = async (name: string) =>
    (await trust.enroll(token, { name, labels: labelsOf([['role', 'web']]) })).host.id;
  const ids = opts.enrolled ?? [await enroll('a'), await enroll('b')];
  const hosts = ids.map((id) => new ObedientHost(id, exchange, clock));
  await fleet.start();

  /** Lets time pass in 100 ms steps, every host reporting at each (and the runs' I/O settling). */
  async function pass(ms: number): Promise<void> {
    for (let t = 0; t < ms; t += 100) {
      for (const host of hosts) await host.report();
      await clock.advance(100);
      for (let i = 0; i < 5; i++) await new Promise((resolve) => setImmediate(resolve));
    }
  }

  /** Lets time pass until `done` holds (at most `ms`). */
  async function until(what: string, done: () => Promise<boolean>, ms = 120_000): Promise<void> {
    for (let t = 0; t < ms; t += 500) {
      if (await done()) return;
      await pass(500);
    }
    throw new Error(`not within ${ms} ms of fake time: ${what}`);
  }

  const rollout = async () => (await fleet.rollout('web', 'production'))!;
  return { clock, kv, exchange, fleet, hosts, pass, until, rollout, store };
}

/** Brings both hosts to 1.0.0 with a first rollout (nothing serves before: no canary). */
async function firstRelease(s: Awaited<ReturnType<typeof setup>>): Promise<void> {
  await s.pass(300);
  await s.fleet.deploy({ app: 'web', env: 'production', version: '1.0.0', actor: 'test' });
  await s.until('1.0.0 everywhere', async () => (await s.rollout()).status === 'succeeded');
}

describe('Fleet: the host’s own strategy within each host', () => {
  it('runs the app’s canary steps on each host of a batch, one batch after another', async () => {
    const s = await setup(CANARY);
    await firstRelease(s);
    // The first release went blue-green: nothing served before it on either host.
    for (const host of s.hosts) expect(host.splits.at(-1)).toBe('1.0.0:100');

    await s.fleet.deploy({ app: 'web', env: 'production', version: '1.1.0', actor: 'test' });
    // While a host's canary runs, its target is not done, and says how far it is.
    await s.until('a canary step shown', async () =>
      (await s.rollout()).targets.some((t) =>
        /canary of 1\.1\.0: canary step 1\/2 at 20%/.test(t.message ?? ''),
      ),
    );
    await s.until('1.1.0 everywhere', async () => (await s.rollout()).status === 'succeeded');
    expect(await s.rollout()).toMatchObject({ lkg: '1.1.0' });
    for (const host of s.hosts)
      expect(host.splits.slice(-4)).toEqual([
        '1.0.0:100',
        '1.0.0:80 1.1.0:20',
        '1.0.0:40 1.1.0:60',
        '1.1.0:100',
      ]);
    expect(await s.store.getRelease('web', 'production', '1.1.0')).toMatchObject({ status: 'good' });
  });

  it('a canary failing on one host fails its target at once, and the fleet returns to last known good', async () => {
    const s = await setup(CANARY);
    await firstRelease(s);
    for (const host of s.hosts) host.failing.add('2.0.0');
    await s.fleet.deploy({ app: 'web', env: 'production', version: '2.0.0', actor: 'test' });
    const startedAt = s.clock.now();
    await s.until('the rollout back on 1.0.0', async () => (await s.rollout()).status === 'rolled-back');
    const view = await s.rollout();
    expect(view).toMatchObject({ lkg: '1.0.0', lkb: '2.0.0' });
    const failed = view.decisions.filter((d) => d.kind === 'target-failed');
    expect(failed).toHaveLength(1);
    expect(failed[0]!.message).toMatch(
      /failed on 2\.0\.0: the host's deployment of 2\.0\.0 failed: canary step 1 at 20%: \d+\/\d+ errors/,
    );
    // At the first analysis, long before the target's 60 s deadline.
    expect(s.clock.now() - startedAt).toBeLessThan(30_000);
    // The host that tried it went 20% to the canary and straight back; the other never tried it.
    const tried = s.hosts.filter((h) => h.splits.some((split) => split.includes('2.0.0')));
    expect(tried).toHaveLength(1);
    expect(tried[0]!.splits.slice(-2)).toEqual(['1.0.0:80 2.0.0:20', '1.0.0:100']);
    await s.pass(1_000);
    for (const host of s.hosts) expect(host.splits.at(-1)).toBe('1.0.0:100');
    expect(await s.store.getRelease('web', 'production', '2.0.0')).toMatchObject({ status: 'bad' });
  });

  it('an abort of the rollout mid-canary drains the canary and returns the host at once', async () => {
    const s = await setup(CANARY);
    await firstRelease(s);
    await s.fleet.deploy({ app: 'web', env: 'production', version: '1.1.0', actor: 'test' });
    await s.until('a canary step running', async () =>
      (await s.rollout()).targets.some((t) => /canary step/.test(t.message ?? '')),
    );
    await s.fleet.command('web', 'production', 'abort', 'test');
    await s.until('back on 1.0.0', async () => {
      const view = await s.rollout();
      return view.status !== 'running' && view.status !== 'rolling-back';
    });
    await s.pass(1_000);
    for (const host of s.hosts) expect(host.splits.at(-1)).toBe('1.0.0:100');
  });

  it('ferry pause holds a host canary at its step, and one that reaches its steps later; resume lets both go on', async () => {
    const s = await setup(CANARY, { rollout: '{ batch: 2, soak: 1s, deadline: 120s }' });
    await firstRelease(s);
    await s.fleet.deploy({ app: 'web', env: 'production', version: '1.1.0', actor: 'test' });
    // Paused before either host reached its canary steps: each is held once it gets there.
    await s.fleet.command('web', 'production', 'pause', 'op');
    await s.until('both hosts held at their first step', async () =>
      (await s.rollout()).targets.every((t) => /canary step 1\/2 at 20% \(paused\)/.test(t.message ?? '')),
    );
    // Far past the step's 2 s pause: nothing moves.
    await s.pass(10_000);
    for (const host of s.hosts) expect(host.splits.at(-1)).toBe('1.0.0:80 1.1.0:20');
    expect((await s.rollout()).status).toBe('paused');

    await s.fleet.command('web', 'production', 'resume', 'op');
    await s.until('1.1.0 everywhere', async () => (await s.rollout()).status === 'succeeded');
    for (const host of s.hosts)
      expect(host.splits.slice(-3)).toEqual(['1.0.0:80 1.1.0:20', '1.0.0:40 1.1.0:60', '1.1.0:100']);
  });

  it('ferry promote skips the remaining canary steps of the hosts under way, not of the hosts after them', async () => {
    const s = await setup(CANARY);
    await firstRelease(s);
    await expect(s.fleet.command('web', 'production', 'promote', 'op')).rejects.toMatchObject({
      code: 'FERRY_E_ILLEGAL_STATE',
      message: expect.stringMatching(/no host of production is in the canary steps of web/),
    });
    await s.fleet.deploy({ app: 'web', env: 'production', version: '1.1.0', actor: 'test' });
    let first = '';
    await s.until('a canary step running', async () => {
      first = (await s.rollout()).targets.find((t) => /canary step 1\/2/.test(t.message ?? ''))?.name ?? '';
      return first !== '';
    });
    await s.fleet.command('web', 'production', 'promote', 'op');
    await s.until('1.1.0 everywhere', async () => (await s.rollout()).status === 'succeeded');
    const promoted = s.hosts.find((h) => h.id === first)!;
    const other = s.hosts.find((h) => h.id !== first)!;
    expect(promoted.splits.slice(-2)).toEqual(['1.0.0:80 1.1.0:20', '1.1.0:100']);
    expect(other.splits.slice(-3)).toEqual(['1.0.0:80 1.1.0:20', '1.0.0:40 1.1.0:60', '1.1.0:100']);
  });

  it('with a host, pause and promote steer that host’s canary alone; abort takes none; an unknown host is named', async () => {
    const s = await setup(CANARY, { rollout: '{ batch: 2, soak: 1s, deadline: 120s }' });
    await firstRelease(s);
    const [first, second] = s.hosts;
    await expect(s.fleet.command('web', 'production', 'promote', 'op', 'nope')).rejects.toMatchObject({
      code: 'FERRY_E_HOST_UNKNOWN',
      message: expect.stringMatching(/no enrolled host has the id or name "nope" \(enrolled: a, b\)/),
    });
    await s.fleet.deploy({ app: 'web', env: 'production', version: '1.1.0', actor: 'test' });
    await s.until('both hosts in their first step', async () =>
      (await s.rollout()).targets.every((t) => /canary step 1\/2 at 20%/.test(t.message ?? '')),
    );
    await expect(s.fleet.command('web', 'production', 'abort', 'op', 'a')).rejects.toMatchObject({
      code: 'FERRY_E_USAGE',
    });
    await s.fleet.command('web', 'production', 'pause', 'op', 'b');
    await s.fleet.command('web', 'production', 'promote', 'op', 'a');
    await s.until('a on 1.1.0 alone', () => Promise.resolve(first!.splits.at(-1) === '1.1.0:100'));
    // b holds at its step, far past its pause, while the rollout runs on.
    await s.pass(10_000);
    expect(second!.splits.at(-1)).toBe('1.0.0:80 1.1.0:20');
    expect((await s.rollout()).status).toBe('running');
    await expect(s.fleet.command('web', 'production', 'pause', 'op', 'a')).rejects.toMatchObject({
      code: 'FERRY_E_ILLEGAL_STATE',
    });
    await s.fleet.command('web', 'production', 'resume', 'op', 'b');
    await s.until('1.1.0 everywhere', async () => (await s.rollout()).status === 'succeeded');
    expect(first!.splits.slice(-2)).toEqual(['1.0.0:80 1.1.0:20', '1.1.0:100']);
    expect(second!.splits.slice(-3)).toEqual(['1.0.0:80 1.1.0:20', '1.0.0:40 1.1.0:60', '1.1.0:100']);
  });

  it('blue-green apps switch each host at once, with no host deployment', async () => {
    const s = await setup('{ kind: blue-green }');
    await firstRelease(s);
    await s.fleet.deploy({ app: 'web', env: 'production', version: '1.1.0', actor: 'test' });
    await s.until('1.1.0 everywhere', async () => (await s.rollout()).status === 'succeeded');
    for (const host of s.hosts) expect(host.splits.slice(-2)).toEqual(['1.0.0:100', '1.1.0:100']);
    expect((await s.kv.range('/host-deployments/')).entries).toHaveLength(0);
  });

  it('a server restarted mid-canary resumes each host’s canary from its stored step', async () => {
    const clock = new FakeClock(1_000_000);
    const kv = await openSqliteKvStore(':memory:', { clock });
    cleanups.push(() => kv.close());
    const first = await setup(CANARY, { kv, clock });
    await firstRelease(first);
    await first.fleet.deploy({ app: 'web', env: 'production', version: '1.1.0', actor: 'test' });
    let midway = '';
    await first.until('the second canary step', async () => {
      const target = (await first.rollout()).targets.find((t) => /step 2\/2 at 60%/.test(t.message ?? ''));
      midway = target?.name ?? '';
      return target !== undefined;
    });
    await first.fleet.close();
    const stored = (await kv.range('/host-deployments/')).entries.map(
      (e) => JSON.parse(e.value) as { status: string; step: number },
    );
    expect(stored.some((d) => d.status === 'running' && d.step === 1)).toBe(true);

    const second = await setup(CANARY, { kv, clock, enrolled: first.hosts.map((h) => h.id) });
    await second.until('1.1.0 everywhere', async () => (await second.rollout()).status === 'succeeded');
    // The host that was at 60% did not start over at 20%: its canary went on from its stored step.
    const host = second.hosts.find((h) => h.id === midway)!;
    expect(host.splits[0]).toBe('1.0.0:40 1.1.0:60');
    expect(host.splits).not.toContain('1.0.0:80 1.1.0:20');
  });

  it('a host gone silent mid-canary: its own deployment ends at once after unseen_after, nothing waits for it', async () => {
    const s = await setup(CANARY, {
      rollout: '{ batch: 1, soak: 1s, deadline: 60s, silent_after: 3s, unseen_after: 10s }',
    });
    await firstRelease(s);
    await s.fleet.deploy({ app: 'web', env: 'production', version: '1.1.0', actor: 'test' });
    let gone = '';
    await s.until('a canary step running', async () => {
      gone = (await s.rollout()).targets.find((t) => /canary step/.test(t.message ?? ''))?.name ?? '';
      return gone !== '';
    });
    s.hosts.find((h) => h.id === gone)!.silent = true;
    const stored = async () => {
      const entries = (await s.kv.range('/host-deployments/')).entries;
      return entries.map((e) => JSON.parse(e.value) as { status: string; weight: number; to: string });
    };
    await s.until(
      'its deployment ended',
      async () => (await stored()).some((d) => d.status === 'aborted'),
      60_000,
    );
    // Forced before 100%: its desired state sends all the traffic back to 1.0.0 for when it returns.
    const weighted = async () => {
      const doc = await s.exchange.desiredState(gone);
      const app = doc?.apps.find((a) => a.app === 'web');
      return (app?.releases ?? []).filter((r) => r.weight > 0).map((r) => r.version);
    };
    await s.until('its traffic back on 1.0.0', async () => (await weighted()).join() === '1.0.0', 60_000);
    // The rollout let the host go and went on with the other one.
    await s.until('the rollout to end', async () => (await s.rollout()).status !== 'running', 120_000);
    expect((await s.rollout()).decisions.some((d) => d.kind === 'targets-left')).toBe(true);
  });
});
