import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../../../test/support/wait.js';
import type { LogLine } from '../../api/types.js';
import { parseConfig } from '../../config/load.js';
import type { FerryConfig } from '../../config/types.js';
import { systemClock } from '../../lib/clock.js';
import { labelsOf } from '../../lib/labels.js';
import { silentLogger } from '../../lib/logger.js';
import { appSpecOf } from '../../protocol/app-spec.js';
import { isAlive } from '../../router/state-dir.js';
import { RouterClient } from '../../router/client.js';
import { freePort } from '../../router/test-support/router-harness.js';
import { startSteadyLoad } from '../../router/test-support/steady-load.js';
import { steadyApp, emptyApp } from '../../runtime/desired/edits.js';
import type { EventInput } from '../../events/publisher.js';
import { HostEventRelay } from '../../server/agent-api/host-event-relay.js';
import { ExchangeHostLink } from '../../runtime/desired/exchange-link.js';
import { HostExchange } from '../../server/agent-api/host-exchange.js';
import { KvDesiredStates } from '../../server/agent-api/kv-desired-states.js';
import { listenForAgents, type AgentsListener } from '../../server/agents-listener.js';
import { followHostLogs } from '../../server/fleet/host-logs.js';
import { Trust } from '../../server/trust/trust.js';
import { openSqliteKvStore } from '../../store/kv/sqlite-kv.js';
import type { KvStore } from '../../store/kv/kv.js';
import { AgentProcess } from './agent-process.js';

const ROOT = path.resolve(import.meta.dirname, '../../..');

/**
 * `ferry agent` as it runs on a host, against a real agents' listener (HTTPS with the server's own
 * CA, enrollment, credentials) and the real router and instances: it enrolls once, runs what its
 * desired state says, keeps serving without the server and across its own restart, and is refused
 * once revoked.
 */
describe('AgentProcess: a host run by its agent over HTTPS', () => {
  let dir: string;
  let appPort: number;
  let agentsPort: number;
  let kv: KvStore;
  let trust: Trust;
  let exchange: HostExchange;
  let listener: AgentsListener | null = null;
  let config: FerryConfig;
  let agent: AgentProcess | null = null;
  const agentHome = () => path.join(dir, 'agent');
  let hostId = '';
  /** What the server's event stream got of the host's events, and the notes in deployment d1's log. */
  const published: EventInput[] = [];
  const notes: string[] = [];

  const listen = async (): Promise<AgentsListener> =>
    (listener = await listenForAgents({
      settings: { listen: { host: '127.0.0.1', port: agentsPort }, names: [], tls: null, store: null },
      dataDir: path.join(dir, 'server'),
      exchange,
      trust,
      logger: silentLogger(),
    }));

  const newAgent = (extra: { joinToken?: string; caFingerprint?: string } = {}): AgentProcess =>
    new AgentProcess({
      server: `https://127.0.0.1:${agentsPort}`,
      dataDir: agentHome(),
      name: 'web-1',
      labels: labelsOf([['zone', 'a']]),
      reportEveryMs: 100,
      openLog: () => silentLogger(),
      ...extra,
    });

  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'ferry-agent-'));
    execFileSync(process.execPath, [
      path.join(ROOT, 'examples/hello/build.mjs'),
      '--out',
      path.join(dir, 'dist'),
    ]);
    appPort = await freePort();
    agentsPort = await freePort();
    config = parseConfig(
      [
        'environments: { production: { hosts: { role: web } } }',
        'apps:',
        '  hello:',
        `    artifact: { url: "file://${dir}/dist/hello-{version}.tar.gz", checksums: "file://${dir}/dist/SHA256SUMS" }`,
        '    run: { command: node, args: [server.mjs] }',
        '    instances: 2',
        `    listen: 127.0.0.1:${appPort}`,
        '    health: { http: { path: /healthz }, interval: 100ms, healthy_threshold: 1 }',
        '    stop: { grace: 2s }',
      ].join('\n'),
      { configPath: null, env: {} },
    );
    kv = await openSqliteKvStore(':memory:');
    trust = new Trust(kv);
    exchange = new HostExchange({
      desired: new KvDesiredStates(kv),
      clock: systemClock,
      pollTimeoutMs: 2_000,
    });
    new HostEventRelay({
      exchange,
      events: { publish: (event) => published.push(event) },
      store: {
        listDeployments: () => Promise.resolve([{ id: 'd1' } as never]),
        appendEvent: (event) => {
          notes.push(event.message);
          return Promise.resolve({ ...event, seq: notes.length });
        },
      },
      logger: silentLogger(),
      now: () => Date.now(),
      hostOf: () => ({ name: 'web-1', mayReport: (_app, env) => env === 'production' }),
    }).start();
    await listen();
  }, 60_000);

  afterAll(async () => {
    await agent?.stop();
    await listener?.close();
    exchange?.close();
    // What the agent started outlives it by design: the test stops it.
    const router = new RouterClient({ stateDir: path.join(agentHome(), 'router') });
    const last = hostId ? exchange?.latestReport(hostId) : null;
    for (const app of last?.report.apps ?? [])
      for (const instance of app.instances) if (instance.pid !== null) process.kill(instance.pid, 'SIGKILL');
    await router.stop().catch(() => undefined);
    await kv?.close();
    rmSync(dir, { recursive: true, force: true });
  }, 60_000);

  async function deploy(hostId: string, version: string): Promise<void> {
    const current = await exchange.desiredState(hostId);
    const spec = appSpecOf(config.apps.hello!, 'production');
    const app = steadyApp(
      current?.apps.find((a) => a.app === 'hello') ?? emptyApp('hello', 'production', spec),
      version,
      2,
    );
    await exchange.publish(hostId, { apps: [{ ...app, spec }] }, { ifRevision: current?.revision ?? 0 });
  }

  const served = async (): Promise<string> => (await fetch(`http://127.0.0.1:${appPort}/`)).text();

  it('refuses to start unenrolled without a join token, and changes nothing', async () => {
    const fingerprint = listener!.tls.caFingerprint;
    const bare = newAgent({ caFingerprint: fingerprint });
    await expect(bare.start()).rejects.toMatchObject({ code: 'FERRY_E_USAGE' });
    expect(existsSync(path.join(agentHome(), 'agent-credential'))).toBe(false);
    const wrong = newAgent({ caFingerprint: fingerprint, joinToken: 'ferry-join.0123456789abcdef.nope' });
    await expect(wrong.start()).rejects.toMatchObject({ code: 'FERRY_E_JOIN_TOKEN_REFUSED' });
    expect(existsSync(path.join(agentHome(), 'agent-credential'))).toBe(false);
  }, 60_000);

  it('enrolls with a join token (its credential kept owner-only), then runs and reports what its desired state says', async () => {
    const { token } = await trust.createJoinToken({ ttlMs: 60_000, labels: labelsOf([['role', 'web']]) });
    agent = newAgent({ joinToken: token, caFingerprint: listener!.tls.caFingerprint });
    await agent.start();
    hostId = agent.identity!.hostId;
    expect(agent.identity).toMatchObject({ name: 'web-1', labels: { role: 'web', zone: 'a' } });
    expect(statSync(path.join(agentHome(), 'agent-credential')).mode & 0o777).toBe(0o600);
    expect(readFileSync(path.join(agentHome(), 'agent-credential'), 'utf8')).toMatch(/^ferry-agent\./);

    await deploy(hostId, '1.0.0');
    const report = await exchange.waitForReport(
      hostId,
      ({ report: r }) =>
        r.apps.some(
          (a) =>
            a.app === 'hello' &&
            a.instances.filter((i) => i.health === 'healthy' && i.version === '1.0.0').length === 2,
        ),
      AbortSignal.timeout(60_000),
    );
    expect(report.report.labels).toMatchObject({ role: 'web', zone: 'a' });
    expect(await served()).toContain('1.0.0');
    // Its instances' events reached the server's event stream, named by the host.
    for (const instance of report.report.apps.find((a) => a.app === 'hello')!.instances) {
      expect(published).toContainEqual(
        expect.objectContaining({ kind: 'instance', host: 'web-1', instance: instance.id, state: 'started' }),
      );
      expect(published).toContainEqual(
        expect.objectContaining({ kind: 'health', host: 'web-1', instance: instance.id, health: 'healthy' }),
      );
    }
  }, 90_000);

  it('an instance killed while the server is away: its crash and restart reach the server once it is back, once each', async () => {
    const victim = exchange.latestReport(hostId)!.report.apps.find((a) => a.app === 'hello')!.instances[0]!;
    await listener!.close();
    listener = null;
    process.kill(victim.pid!, 'SIGKILL');
    await waitFor('the killed process to be gone', () => !isAlive(victim.pid!));
    await listen();
    const ofVictim = (state: string) =>
      published.filter((e) => e.kind === 'instance' && e.instance === victim.id && e.state === state);
    await waitFor(
      'the crash and the restart on the event stream',
      () => ofVictim('restarted').length > 0,
      60_000,
    );
    expect(ofVictim('crashed')).toEqual([
      expect.objectContaining({ host: 'web-1', detail: 'killed by SIGKILL', version: victim.version }),
    ]);
    expect(ofVictim('restarted')).toHaveLength(1);
    await waitFor('the notes in the deployment log', () => notes.some((n) => n.includes('restarted (pid')));
    expect(notes.filter((n) => n.includes(victim.id))).toEqual([
      expect.stringMatching(
        new RegExp(`^host web-1: instance ${victim.id} of \\S+ exited with signal SIGKILL; restart 1 in`),
      ),
      expect.stringMatching(
        new RegExp(`^host web-1: instance ${victim.id} of \\S+ restarted \\(pid \\d+, restart 1\\)`),
      ),
    ]);
  }, 90_000);

  it("a router worker killed on the host: the server's event stream says it was replaced, naming the host", async () => {
    const router = exchange.latestReport(hostId)!.report.router!;
    const worker = router.workers!.find((w) => w.pid !== null)!;
    process.kill(worker.pid!, 'SIGKILL');
    await waitFor(
      'the worker replaced, on the event stream',
      () =>
        published.some((e) => e.kind === 'router' && e.change === 'worker-restarted' && e.host === 'web-1'),
      60_000,
    );
    expect(await served()).toContain('1.0.0');
  }, 90_000);

  it('keeps serving without the server, moves to a new release when it is back, and drops no request', async () => {
    const load = startSteadyLoad(`http://127.0.0.1:${appPort}/`, { keepAlive: 2, fresh: 1, maxMs: 90_000 });
    await load.succeeded(50);
    await listener!.close();
    listener = null;
    await load.succeeded(200);
    expect(await served()).toContain('1.0.0');

    await listen();
    await deploy(hostId, '1.1.0');
    await waitFor(
      '1.1.0 to serve alone',
      () => {
        const latest = exchange.latestReport(hostId)?.report.apps.find((a) => a.app === 'hello');
        return (
          latest !== undefined &&
          latest.instances.length === 2 &&
          latest.instances.every((i) => i.version === '1.1.0' && i.health === 'healthy')
        );
      },
      60_000,
    );
    await load.succeeded(100);
    const result = await load.stop();
    expect(result.failed, result.failures.join('\n')).toBe(0);
    expect(await served()).toContain('1.1.0');
  }, 120_000);

  it('restarted without its token, it re-adopts its instances (same processes) and serves on', async () => {
    const before = exchange
      .latestReport(hostId)!
      .report.apps.find((a) => a.app === 'hello')!
      .instances.map((i) => i.pid);
    const load = startSteadyLoad(`http://127.0.0.1:${appPort}/`, { keepAlive: 2, fresh: 1, maxMs: 60_000 });
    await load.succeeded(50);
    await agent!.stop();
    await load.succeeded(100);
    agent = newAgent();
    await agent.start();
    const after = await exchange.waitForReport(
      hostId,
      ({ report: r }) =>
        r.apps.some((a) => a.app === 'hello' && a.instances.every((i) => i.health === 'healthy')),
      AbortSignal.timeout(30_000),
    );
    expect(
      after.report.apps
        .find((a) => a.app === 'hello')!
        .instances.map((i) => i.pid)
        .sort(),
    ).toEqual(before.sort());
    await load.succeeded(100);
    const result = await load.stop();
    expect(result.failed, result.failures.join('\n')).toBe(0);
  }, 90_000);

  it('ferry logs -f through its agent: the lines its instances write after the follow opened, with the host name', async () => {
    const spec = appSpecOf(config.apps.hello!, 'production');
    const link = new ExchangeHostLink({ exchange, now: () => Date.now(), specFor: () => spec });
    const sent: LogLine[] = [];
    const stop = new AbortController();
    const following = followHostLogs(
      { trust, link, clock: systemClock },
      { app: 'hello', env: 'production', selector: labelsOf([['role', 'web']]), lines: 5 },
      { signal: stop.signal, send: (line) => sent.push(line) },
    );
    const said = (pattern: RegExp) => sent.filter((l) => pattern.test(l.line));
    try {
      await waitFor('the recent lines', () => said(/^hello 1\.1\.0 listening/).length === 2, 30_000);
      const opened = sent.length;
      expect(sent.every((l) => l.host === 'web-1' && l.at === undefined)).toBe(true);
      await deploy(hostId, '1.0.0');
      // The new release's first lines, and the old one's last (read to their end once stopped).
      await waitFor(
        'the new instances\u2019 first lines and the old ones\u2019 draining',
        () => said(/^hello 1\.0\.0 listening/).length === 2 && said(/^hello 1\.1\.0 draining/).length === 2,
        60_000,
      );
      const followed = sent.slice(opened);
      expect(followed.every((l) => l.host === 'web-1' && typeof l.at === 'number')).toBe(true);
      expect(said(/^hello 1\.0\.0 listening/).map((l) => l.version)).toEqual(['1.0.0', '1.0.0']);
      const seen = followed.map((l) => `${l.instance} ${l.line}`);
      expect(new Set(seen).size).toBe(seen.length);
    } finally {
      stop.abort();
      await following;
    }
    // Each ask's task left the desired state once answered.
    expect((await exchange.desiredState(hostId))!.apps.flatMap((a) => a.tasks)).toEqual([]);
  }, 120_000);

  it('an app the server takes off its desired state leaves: instances stopped, route removed; it can come back', async () => {
    const pids = exchange
      .latestReport(hostId)!
      .report.apps.find((a) => a.app === 'hello')!
      .instances.map((i) => i.pid!);
    const current = (await exchange.desiredState(hostId))!;
    await exchange.publish(hostId, { apps: [] }, { ifRevision: current.revision });
    await exchange.waitForReport(
      hostId,
      ({ report: r }) => !r.apps.some((a) => a.app === 'hello'),
      AbortSignal.timeout(60_000),
    );
    for (const pid of pids) expect(isAlive(pid), `instance ${pid}`).toBe(false);
    // The route's port closes once the router's workers dropped it.
    await waitFor(
      'the app port to close',
      () =>
        served().then(
          () => false,
          () => true,
        ),
      30_000,
    );

    await deploy(hostId, '1.1.0');
    await exchange.waitForReport(
      hostId,
      ({ report: r }) =>
        r.apps.some(
          (a) => a.app === 'hello' && a.instances.filter((i) => i.health === 'healthy').length === 2,
        ),
      AbortSignal.timeout(60_000),
    );
    expect(await served()).toContain('1.1.0');
  }, 120_000);

  it('revoked, its requests are refused; it keeps serving its last desired state', async () => {
    await trust.revokeHost(hostId);
    await waitFor(
      'the link to be refused',
      () => agent!.link?.lastError?.code === 'FERRY_E_AGENT_CREDENTIAL_REFUSED',
      30_000,
    );
    expect(await served()).toContain('1.1.0');
  }, 60_000);
});
