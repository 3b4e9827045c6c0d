import { afterEach, describe, expect, it } from 'vitest';
import { parseConfig } from '../../config/load.js';
import type { FerryConfig } from '../../config/types.js';
import { labelsOf } from '../../lib/labels.js';
import type { HostReport } from '../../protocol/report.js';
import { fleetOnRealParts, runningInstance } from './test-support/fleet-parts.js';

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function config(): FerryConfig {
  return parseConfig(
    [
      'environments: { production: { hosts: { role: web } } }',
      'apps:',
      '  web:',
      '    artifact: { url: "https://user:pw-SECRET@releases.example/web-{version}.tar.gz", checksum: "sha256:0000000000000000000000000000000000000000000000000000000000000000" }',
      '    run: { command: node, args: [server.mjs] }',
      '    instances: 2',
      '    listen: "0.0.0.0:8080"',
      '    rollout: { batch: 1, soak: 1s, deadline: 30s }',
    ].join('\n'),
    { configPath: null, env: {} },
  );
}

/**
 * The fleet on its real parts, with hosts simulated by their reports: which hosts are targets,
 * what each is told, and what the ledger learns.
 */
async function setup() {
  const parts = await fleetOnRealParts({ config: config() });
  const { clock, exchange, fleet, store, trust } = parts;
  cleanups.push(parts.close);
  const { token } = await trust.createJoinToken({ ttlMs: 60_000, uses: 10 });
  const enroll = async (name: string, role: string) =>
    (await trust.enroll(token, { name, labels: labelsOf([['role', role]]) })).host.id;
  const hosts = { a: await enroll('a', 'web'), b: await enroll('b', 'web'), db: await enroll('db', 'db') };
  await fleet.start();

  /** A host's report: the release it serves, healthy or not. */
  function report(host: string, version: string | null, healthy = true): void {
    const instances = version
      ? [0, 1].map((n) =>
          runningInstance(`${host}-${version}-${n}`, version, { health: healthy ? 'healthy' : 'starting' }),
        )
      : [];
    const body: HostReport = {
      host,
      agentVersion: 'test',
      revision: 0,
      at: clock.now(),
      labels: {},
      apps: [
        {
          app: 'web',
          env: 'production',
          releases: version ? [{ version, install: 'installed' }] : [],
          instances,
          current: version,
          traffic: version ? [{ version, weight: 1 }] : [],
          route: null,
          tasks: [],
        },
      ],
    };
    exchange.receiveReport(host, body, { address: 'test', bytes: 0 });
  }

  /** The release the host's desired state gives all the traffic. */
  async function told(host: string): Promise<string | null> {
    const doc = await exchange.desiredState(host);
    const app = doc?.apps.find((a) => a.app === 'web');
    return app?.releases.find((r) => r.weight > 0)?.version ?? null;
  }

  /** Lets time pass in steps, so reports are batched and ticks run. */
  async function pass(ms: number): Promise<void> {
    for (let t = 0; t < ms; t += 100) await clock.advance(100);
  }

  return { clock, fleet, hosts, report, told, pass, store, trust };
}

describe('Fleet: an environment rolled out across the enrolled hosts its labels select', () => {
  it('makes the selected hosts its targets, tells them one batch at a time, and marks the release good', async () => {
    const { fleet, hosts, report, told, pass, store } = await setup();
    report(hosts.a, '1.0.0');
    report(hosts.b, '1.0.0');
    report(hosts.db, '1.0.0');
    await pass(300);
    await fleet.deploy({ app: 'web', env: 'production', version: '1.1.0', actor: 'test' });
    const view = (await fleet.rollout('web', 'production'))!;
    // The db host reports too, but the environment does not select it.
    expect(view.targets.map((t) => t.name).sort()).toEqual([hosts.a, hosts.b].sort());
    const first = (await told(hosts.a)) === '1.1.0' ? hosts.a : hosts.b;
    const second = first === hosts.a ? hosts.b : hosts.a;
    expect(await told(first)).toBe('1.1.0');
    expect(await told(second)).toBeNull();
    expect(await told(hosts.db)).toBeNull();

    report(first, '1.1.0');
    await pass(1_500);
    report(first, '1.1.0');
    await pass(300);
    expect(await told(second)).toBe('1.1.0');
    report(second, '1.1.0');
    await pass(1_500);
    report(first, '1.1.0');
    report(second, '1.1.0');
    await pass(300);
    expect(await fleet.rollout('web', 'production')).toMatchObject({ status: 'succeeded', lkg: '1.1.0' });
    const release = await store.getRelease('web', 'production', '1.1.0');
    expect(release).toMatchObject({ status: 'good' });
    // The ledger has where it came from, without the credentials.
    expect(release!.artifactUrl).not.toContain('pw-SECRET');
  });

  it('brings every host back to last known good when one fails, and leaves a revoked host out', async () => {
    const { fleet, hosts, report, told, pass, store, trust, clock } = await setup();
    report(hosts.a, '1.0.0');
    report(hosts.b, '1.0.0');
    await pass(300);
    await fleet.deploy({ app: 'web', env: 'production', version: '1.0.0', actor: 'test' });
    for (let i = 0; i < 8; i++) {
      report(hosts.a, '1.0.0');
      report(hosts.b, '1.0.0');
      await pass(800);
    }
    expect(await fleet.rollout('web', 'production')).toMatchObject({ status: 'succeeded', lkg: '1.0.0' });

    await fleet.deploy({ app: 'web', env: 'production', version: '2.0.0', actor: 'test' });
    const first = (await told(hosts.a)) === '2.0.0' ? hosts.a : hosts.b;
    // It never gets healthy on 2.0.0: past the deadline the release is bad.
    for (let t = 0; t < 32_000; t += 1_000) {
      report(first, '2.0.0', false);
      report(first === hosts.a ? hosts.b : hosts.a, '1.0.0');
      await pass(1_000);
    }
    const back = (await fleet.rollout('web', 'production'))!;
    expect(back).toMatchObject({ lkb: '2.0.0', lkg: '1.0.0' });
    expect(await told(first)).toBe('1.0.0');
    expect(await store.getRelease('web', 'production', '2.0.0')).toMatchObject({ status: 'bad' });

    // A revoked host's reports no longer reach the rollout.
    await trust.revokeHost(hosts.b);
    await clock.advance(3_000);
    const before = (await fleet.rollout('web', 'production'))!.targets.find((t) => t.name === hosts.b)!;
    report(hosts.b, '1.0.0');
    await pass(300);
    const after = (await fleet.rollout('web', 'production'))!.targets.find((t) => t.name === hosts.b)!;
    expect(after.lastSeenAt).toBe(before.lastSeenAt);
  });

  it('rolls back across the hosts: the newest good release before last known good, batch by batch', async () => {
    const { fleet, hosts, report, told, pass } = await setup();
    const settle = async (version: string) => {
      for (let i = 0; i < 10; i++) {
        report(hosts.a, (await told(hosts.a)) ?? version);
        report(hosts.b, (await told(hosts.b)) ?? version);
        await pass(800);
      }
      expect(await fleet.rollout('web', 'production')).toMatchObject({ status: 'succeeded', lkg: version });
    };
    report(hosts.a, '1.0.0');
    report(hosts.b, '1.0.0');
    await pass(300);
    await fleet.deploy({ app: 'web', env: 'production', version: '1.0.0', actor: 'test' });
    await settle('1.0.0');
    await fleet.deploy({ app: 'web', env: 'production', version: '1.1.0', actor: 'test' });
    // Refused while a rollout runs: an abort is the way back then.
    await expect(fleet.rollback({ app: 'web', env: 'production', actor: 'test' })).rejects.toThrow(
      /is running; end it with: ferry abort web --env production/,
    );
    await settle('1.1.0');

    const back = await fleet.rollback({ app: 'web', env: 'production', actor: 'ops' });
    expect(back).toMatchObject({ status: 'running', rolling: '1.0.0', lkg: '1.1.0' });
    await settle('1.0.0');
    await expect(
      fleet.rollback({ app: 'web', env: 'production', to: '0.9.0', actor: 'ops' }),
    ).rejects.toMatchObject({ code: 'FERRY_E_RELEASE_UNKNOWN' });
  });

  it('plans a deploy without changing anything', async () => {
    const { fleet, hosts, report, told, pass } = await setup();
    report(hosts.a, '1.0.0');
    report(hosts.b, '1.0.0');
    await pass(300);
    const plan = await fleet.plan({ app: 'web', env: 'production', version: '1.1.0' });
    expect(plan).toMatchObject({ targets: 2, batchSize: 1, version: '1.1.0' });
    expect(plan.text).toMatch(/batch 1/);
    expect(await told(hosts.a)).toBeNull();
    expect((await fleet.rollout('web', 'production'))?.rolling ?? null).toBeNull();
  });
});
