import { spawn, type ChildProcess } from 'node:child_process';
import { createHash, createHmac } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import {
  appendFileSync,
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type {
  FleetRestartView,
  FleetRollout,
  HostsResponse,
  JoinTokenCreateResponse,
} from '../../src/api/types.js';
import { assertBuilt, buildReleases, freePort } from '../support/ferry.js';
import { startLoad, type LoadReport } from '../support/load.js';
import {
  createFleetNetwork,
  netnsSkipReason,
  type FleetNetwork,
  type HostProcess,
} from '../support/netns.js';
import { RouterClient } from '../../src/router/client.js';
import { parseExposition } from '../support/prometheus.js';
import { waitFor } from '../support/wait.js';

const ROOT = path.resolve(import.meta.dirname, '../..');
const BIN = path.join(ROOT, 'bin', 'ferry.js');
const HOSTS = 5;
/** The app's port on every host: each host has its own network namespace. */
const APP_PORT = 8080;
const HOOK_SECRET = 'a-generic-secret-of-the-fleet-test';

const skip = netnsSkipReason();

/**
 * Ferry on a fleet: one `ferry server` and five `ferry agent` processes, each agent in a network
 * namespace of its own (a host) with its own router and instances, under load from outside. A
 * release rolls out two hosts at a time with no failed request; one that fails in its second batch
 * brings every host, the first batch's too, back to last known good.
 */
describe.skipIf(skip !== null)('a fleet of five hosts: ferry server and ferry agent', () => {
  let dir: string;
  let net: FleetNetwork;
  let server: ChildProcess;
  let serverOutput = '';
  let hooksPort = 0;
  let releasesServer: Server | null = null;
  /** A Slack-style receiver of the server's notifications: the texts it was sent, in order. */
  let notifyServer: Server | null = null;
  const notified: string[] = [];
  let configPath: string;
  let writeConfig: (strategy: string | null) => void;
  let home: string;
  let apiPort = 0;
  const agents: HostProcess[] = [];
  const agentDir = (i: number) => path.join(dir, `agent-${i}`);
  let agentsUrl = '';

  /** `ferry agent` on host i, in its namespace (enrolled once: later starts need no token). */
  function startAgent(i: number, extra: string[] = []): HostProcess {
    return net.hosts[i]!.spawn(process.execPath, [
      BIN,
      'agent',
      '--server',
      agentsUrl,
      '--data-dir',
      agentDir(i),
      ...extra,
    ]);
  }

  /** What host i's own namespace gets from the app (a client on the host, whatever its link). */
  async function servedInside(i: number): Promise<string> {
    const result = await net.hosts[i]!.exec(process.execPath, [
      '-e',
      `fetch('http://127.0.0.1:${APP_PORT}/', { signal: AbortSignal.timeout(3000) }).then(async (r) => console.log(await r.text())).catch((e) => console.log('failed ' + e.message)).finally(() => process.exit(0))`,
    ]);
    return result.stdout;
  }

  async function hostSeenAt(name: string): Promise<number | null> {
    const listed = await json<HostsResponse>('hosts');
    return listed.hosts.find((h) => h.name === name)?.lastSeenAt ?? null;
  }

  async function cli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
    const child = spawn(process.execPath, [BIN, ...args, '-c', configPath, '--home', home], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const code = await new Promise<number>((resolve) => child.on('exit', (c) => resolve(c ?? -1)));
    return { code, stdout, stderr };
  }

  async function json<T>(...args: string[]): Promise<T> {
    const result = await cli(...args, '--json');
    if (result.code !== 0) throw new Error(`ferry ${args.join(' ')}: ${result.stderr}`);
    return JSON.parse(result.stdout) as T;
  }

  async function rollout(): Promise<FleetRollout | null> {
    const status = await json<{ rollouts: FleetRollout[] }>('status');
    return status.rollouts.find((r) => r.app === 'hello') ?? null;
  }

  /** The pids of the app's instances on host i: processes whose directory is in its agent's data. */
  function appPids(i: number): number[] {
    const root = agentDir(i);
    return readdirSync('/proc')
      .filter((p) => /^\d+$/.test(p))
      .filter((p) => {
        try {
          return (
            readlinkSync(`/proc/${p}/cwd`).startsWith(`${root}/`) &&
            readFileSync(`/proc/${p}/cmdline`, 'utf8').includes('server.mjs')
          );
        } catch {
          return false; // gone meanwhile, or not ours
        }
      })
      .map(Number);
  }

  const served = async (i: number): Promise<string> =>
    (await fetch(net.hosts[i]!.url(APP_PORT), { signal: AbortSignal.timeout(5_000) })).text();

  beforeAll(async () => {
    assertBuilt();
    dir = mkdtempSync(path.join(os.tmpdir(), 'ferry-fleet-'));
    home = path.join(dir, 'server');
    await buildReleases(path.join(dir, 'dist'), [
      '1.2.0-gated',
      '1.3.0',
      '1.3.1',
      '1.4.0',
      '1.5.0',
      '1.6.0',
      '1.6.1-errors',
    ]);
    net = await createFleetNetwork({ hosts: HOSTS });
    apiPort = await freePort();
    const agentsPort = await freePort();
    hooksPort = await freePort();
    notifyServer = createServer((request, response) => {
      let body = '';
      request.on('data', (c: Buffer) => (body += c.toString()));
      request.on('end', () => {
        notified.push((JSON.parse(body) as { text: string }).text);
        response.writeHead(200).end('ok');
      });
    });
    await new Promise<void>((resolve) => notifyServer!.listen(0, '127.0.0.1', resolve));
    const notifyPort = (notifyServer.address() as { port: number }).port;
    configPath = path.join(dir, 'ferry.yaml');
    writeConfig = (strategy) =>
      writeFileSync(
        configPath,
        [
          `api: { listen: "127.0.0.1:${apiPort}" }`,
          `server: { listen: "${net.serverAddress}:${agentsPort}" }`,
          `notifications: [{ kind: slack, url: "http://127.0.0.1:${notifyPort}/services/fleet", events: [started, succeeded, rolled-back] }]`,
          `triggers: { listen: "127.0.0.1:${hooksPort}" }`,
          'environments: { production: { hosts: { role: web } } }',
          ...(strategy === null ? ['apps: {}'] : helloApp(strategy)),
        ].join('\n'),
      );
    const helloApp = (strategy: string) => [
      'apps:',
      '  hello:',
      `    artifact: { url: "file://${dir}/dist/hello-{version}.tar.gz", checksums: "file://${dir}/dist/SHA256SUMS" }`,
      // Relative to the release directory: each host's own gate, in its agent's data directory.
      '    run: { command: node, args: [server.mjs], env: { HELLO_GATE: "../../../../../gate" } }',
      '    instances: 2',
      `    listen: "0.0.0.0:${APP_PORT}"`,
      '    health: { http: { path: /healthz }, interval: 100ms, timeout: 1s, healthy_threshold: 2, unhealthy_threshold: 3 }',
      '    stop: { grace: 2s }',
      '    rollout: { batch: 2, max_unavailable: 2, soak: 1s, deadline: 12s, silent_after: 3s, unseen_after: 8s, restart_at_once: 2 }',
      `    triggers: { generic: { secret: "${HOOK_SECRET}" } }`,
      `    strategy: ${strategy}`,
    ];
    writeConfig('{ kind: blue-green }');
    server = spawn(process.execPath, [BIN, 'server', '-c', configPath, '--home', home], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    server.stdout!.on('data', (c: Buffer) => (serverOutput += c.toString()));
    server.stderr!.on('data', (c: Buffer) => (serverOutput += c.toString()));
    await waitFor(
      'ferry server to be up',
      () => {
        if (server.exitCode !== null) throw new Error(`ferry server exited:\n${serverOutput}`);
        return serverOutput.includes('Ferry is up');
      },
      60_000,
    );
  }, 120_000);

  afterAll(async () => {
    if (releasesServer) await new Promise((resolve) => releasesServer!.close(resolve));
    if (notifyServer) await new Promise((resolve) => notifyServer!.close(resolve));
    server?.kill('SIGKILL');
    for (const agent of agents) agent.child.kill('SIGKILL');
    // The server's own router outlives it by design (it serves no app here): the test stops it.
    if (home) await new RouterClient({ stateDir: path.join(home, 'router') }).stop().catch(() => undefined);
    await net?.close();
    if (dir && process.env.FERRY_KEEP_TEST_DIR === undefined) rmSync(dir, { recursive: true, force: true });
  }, 60_000);

  it('enrolls five agents with one join token, each in its own namespace, pinned to the server CA', async () => {
    const created = await json<JoinTokenCreateResponse>(
      'join-token',
      'create',
      '--uses',
      '5',
      '--label',
      'role=web',
    );
    expect(created.agents).not.toBeNull();
    const { url, caFingerprint } = created.agents!;
    expect(url).toBe(`https://${net.serverAddress}:${new URL(url).port}`);
    agentsUrl = url;
    for (const host of net.hosts)
      agents.push(
        startAgent(host.index, [
          '--ca-fingerprint',
          caFingerprint,
          '--token',
          created.token,
          '--name',
          `web-${host.index}`,
        ]),
      );
    const hosts = await waitFor(
      'five agents to report',
      async () => {
        const listed = await json<HostsResponse>('hosts');
        const seen = listed.hosts.filter((h) => h.name.startsWith('web-') && h.lastSeenAt !== null);
        return seen.length === HOSTS ? seen : null;
      },
      60_000,
    ).catch((error: unknown) => {
      throw new Error(
        `${String(error)}\nagents said:\n${agents.map((a) => a.stdout() + a.stderr()).join('\n---\n')}`,
      );
    });
    expect(hosts.map((h) => h.labels)).toEqual(
      Array.from({ length: HOSTS }, () => [{ key: 'role', value: 'web' }]),
    );
    // Each reports the router it watches.
    for (const host of hosts) expect(host.router).toMatchObject({ state: 'running', error: null });
    // The token is used up: a sixth enrollment is refused.
    const listed = await cli('join-token', 'list');
    expect(listed.stdout).toMatch(/used-up/);
  }, 90_000);

  it('rolls a first release and then a new one out two hosts at a time, with no failed request', async () => {
    // The plan first: nothing changes.
    const plan = await cli('deploy', 'hello', '1.0.0', '--dry-run');
    expect(plan.code, plan.stderr).toBe(0);
    expect(plan.stdout).toMatch(/Rollout of hello in production: nothing -> 1\.0\.0 on 5 target\(s\)/);
    expect(plan.stdout).toMatch(/batch 1/);
    expect(plan.stdout).toContain('(dry run: nothing changed)');
    // The hosts joined (they report); nothing is rolling out.
    expect(await rollout()).toMatchObject({ status: 'idle', rolling: null, targetVersion: null });
    const first = await cli('deploy', 'hello', '1.0.0', '--wait');
    expect(first.code, first.stdout + first.stderr).toBe(0);
    for (let i = 0; i < HOSTS; i++) expect(await served(i)).toContain('1.0.0');

    const loads = net.hosts.map((h) => startLoad(h.url(APP_PORT), { connections: 2, maxMs: 120_000 }));
    await waitFor('load to flow on every host', () => loads.every((l) => l.report.requests > 20));
    let mostUnavailable = 0;
    const watching = (async () => {
      for (;;) {
        const r = await rollout();
        if (r !== null) mostUnavailable = Math.max(mostUnavailable, r.counts.unavailable);
        if (r?.rolling === '1.1.0' && r.status !== 'running') return;
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
    })();
    const second = await cli('deploy', 'hello', '1.1.0', '--wait');
    await watching;
    const reports: LoadReport[] = await Promise.all(loads.map((l) => l.stop()));
    expect(second.code, second.stdout + second.stderr).toBe(0);
    for (const report of reports) expect(report.failures, report.samples.join('\n')).toBe(0);
    expect(mostUnavailable).toBeLessThanOrEqual(2);
    const done = (await rollout())!;
    expect(done).toMatchObject({ status: 'succeeded', lkg: '1.1.0' });
    expect(
      done.decisions.filter((d) => d.kind === 'batch-started' && d.message.includes('1.1.0')),
    ).toHaveLength(3);
    for (let i = 0; i < HOSTS; i++) expect(await served(i)).toContain('1.1.0');
  }, 180_000);

  it("the server's /metrics shows each host's instances and router under its name", async () => {
    const token = readFileSync(path.join(home, 'api-token'), 'utf8').trim();
    const response = await fetch(`http://127.0.0.1:${apiPort}/metrics`, {
      headers: { authorization: `Bearer ${token}` },
    });
    expect(response.status).toBe(200);
    const scraped = parseExposition(await response.text());
    for (let i = 0; i < HOSTS; i++) {
      const scope = { host: `web-${i}`, app: 'hello', env: 'production', release: '1.1.0' };
      expect(scraped.value('ferry_instances', { ...scope, health: 'healthy' }), scope.host).toBe(2);
      // The load of the rolling deploy went through each host's router.
      expect(
        scraped.value('ferry_router_requests_total', { ...scope, code: '2xx' }),
        scope.host,
      ).toBeGreaterThan(0);
      expect(scraped.value('ferry_router_up', { host: `web-${i}` })).toBe(1);
    }
  }, 60_000);

  it('ferry restart across the hosts: at most two at a time, every instance replaced, no failed request', async () => {
    const before = net.hosts.map((_, i) => appPids(i));
    for (const pids of before) expect(pids).toHaveLength(2);
    const loads = net.hosts.map((h) => startLoad(h.url(APP_PORT), { connections: 2, maxMs: 60_000 }));
    await waitFor('load to flow on every host', () => loads.every((l) => l.report.requests > 20));
    let mostAtOnce = 0;
    let restart: FleetRestartView | undefined;
    const started = await cli('restart', 'hello', '--env', 'production', '--json');
    expect(started.code, started.stderr).toBe(0);
    const { restart: first } = JSON.parse(started.stdout) as { restart: FleetRestartView };
    expect(first).toMatchObject({ app: 'hello', env: 'production', atOnce: 2, state: 'running' });
    expect(first.hosts).toHaveLength(HOSTS);
    await waitFor(
      'the restart to end',
      async () => {
        const status = await json<{ restarts?: FleetRestartView[] }>('status');
        restart = status.restarts?.find((r) => r.id === first.id);
        mostAtOnce = Math.max(mostAtOnce, restart?.hosts.filter((h) => h.state === 'restarting').length ?? 0);
        return restart !== undefined && restart.state !== 'running';
      },
      40_000,
    );
    const reports: LoadReport[] = await Promise.all(loads.map((l) => l.stop()));
    expect(restart?.failure ?? null).toBeNull();
    expect(restart?.state).toBe('succeeded');
    for (const report of reports) expect(report.failures, report.samples.join('\n')).toBe(0);
    expect(mostAtOnce).toBeGreaterThan(0);
    expect(mostAtOnce).toBeLessThanOrEqual(2);
    // Every instance on every host is a new process; each host still serves its release.
    for (let i = 0; i < HOSTS; i++) {
      // The last old instance may still be draining when its host reports the restart done.
      await waitFor(`host ${i}'s old instances to be gone`, () => {
        const after = appPids(i);
        return after.length === 2 && after.every((pid) => !before[i]!.includes(pid));
      });
      expect(await served(i)).toContain('1.1.0');
    }
  }, 90_000);

  it("ferry logs asks every host of the environment for its instances' last lines; -f follows them, with each host's name", async () => {
    const logs = await json<{ lines: Array<{ host?: string; instance: string; line: string }> }>(
      'logs',
      'hello',
      '--lines',
      '5',
    );
    expect(new Set(logs.lines.map((l) => l.host))).toEqual(new Set(net.hosts.map((h) => `web-${h.index}`)));
    expect(logs.lines.every((l) => l.instance.startsWith('hello-'))).toBe(true);
    const text = await cli('logs', 'hello');
    expect(text.stdout).toMatch(/^web-0 hello-/m);

    // -f through the agents: every host's recent lines, then a line written after it opened.
    const follow = spawn(
      process.execPath,
      [BIN, 'logs', 'hello', '-f', '-n', '1', '-c', configPath, '--home', home],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let out = '';
    follow.stdout.on('data', (c: Buffer) => (out += c.toString()));
    const exited = new Promise<number | null>((resolve) => follow.on('exit', (code) => resolve(code)));
    try {
      await waitFor('the recent lines of every host', () =>
        net.hosts.every((h) => new RegExp(`^ {24} web-${h.index} hello-`, 'm').test(out)),
      );
      const instance = logs.lines.find((l) => l.host === 'web-0')!.instance;
      const file = path.join(agentDir(0), 'apps', 'hello', 'production', 'logs', `${instance}.log`);
      appendFileSync(file, 'a line written after the follow opened\n');
      await waitFor('the new line, with its time and host', () =>
        new RegExp(
          `^\\d{4}-\\d\\d-\\d\\dT[\\d:.]+Z web-0 ${instance} \\S+ \\| a line written after the follow opened$`,
          'm',
        ).test(out),
      );
    } finally {
      follow.kill('SIGINT');
    }
    expect(await exited).toBe(0);
  }, 60_000);

  it('a release failing in its second batch: every host, the first batch too, returns to last known good', async () => {
    const loads = net.hosts.map((h) => startLoad(h.url(APP_PORT), { connections: 2, maxMs: 120_000 }));
    await waitFor('load to flow on every host', () => loads.every((l) => l.report.requests > 20));
    const deploying = cli('deploy', 'hello', '1.2.0-gated', '--wait');
    // The first batch's hosts are let through (their gate opened); the others' gates stay shut.
    const firstBatch = await waitFor(
      'the first batch',
      async () => {
        const r = await rollout();
        const told = r?.targets.filter((t) => t.assigned === '1.2.0-gated') ?? [];
        return told.length > 0 ? told.map((t) => t.name) : null;
      },
      30_000,
    );
    const hosts = await json<HostsResponse>('hosts');
    for (const id of firstBatch) {
      const name = hosts.hosts.find((h) => h.id === id)?.name ?? '';
      writeFileSync(path.join(agentDir(Number(name.replace('web-', ''))), 'gate'), '');
    }
    // They run it, healthy (their batch succeeded) before the second batch fails.
    await waitFor(
      'the first batch on 1.2.0-gated',
      async () => {
        const r = await rollout();
        return firstBatch.every((id) =>
          r?.targets.some((t) => t.name === id && t.status === 'settled' && t.reported === '1.2.0-gated'),
        );
      },
      30_000,
    );
    const result = await deploying;
    const reports = await Promise.all(loads.map((l) => l.stop()));
    expect(result.code, result.stdout).toBe(1);
    const ended = (await rollout())!;
    expect(ended).toMatchObject({ status: 'rolled-back', lkg: '1.1.0', lkb: '1.2.0-gated' });
    await waitFor(
      'every host back on 1.1.0',
      async () => {
        for (let i = 0; i < HOSTS; i++) if (!(await served(i)).includes('1.1.0')) return false;
        return true;
      },
      60_000,
    );
    for (const report of reports) expect(report.failures, report.samples.join('\n')).toBe(0);
    const history = await cli('history', 'hello');
    expect(history.stdout).toMatch(/1\.2\.0-gated/);
  }, 180_000);

  it('a host whose link is cut keeps serving its last state, leaves the rollout, and catches up once back', async () => {
    const cut = net.hosts[3]!;
    await cut.linkDown();
    try {
      const deployed = await cli('deploy', 'hello', '1.3.0', '--wait');
      expect(deployed.code, deployed.stdout + deployed.stderr).toBe(0);
      const r = (await rollout())!;
      expect(r).toMatchObject({ status: 'succeeded', lkg: '1.3.0' });
      expect(r.decisions.some((d) => d.kind === 'targets-left')).toBe(true);
      // Its own clients are still served the release it had.
      expect(await servedInside(3)).toContain('1.1.0');
      for (const i of [0, 1, 2, 4]) expect(await served(i)).toContain('1.3.0');
    } finally {
      await cut.linkUp();
    }
    await waitFor(
      'the cut host to catch up on 1.3.0',
      async () => (await served(3)).includes('1.3.0'),
      60_000,
    );
  }, 180_000);

  it('kill -9 of an agent mid-rollout drops no request on its host; restarted without a token, it catches up', async () => {
    const loads = net.hosts.map((h) => startLoad(h.url(APP_PORT), { connections: 2, maxMs: 120_000 }));
    await waitFor('load to flow on every host', () => loads.every((l) => l.report.requests > 20));
    const started = await cli('deploy', 'hello', '1.3.1');
    expect(started.code, started.stderr).toBe(0);
    // The agent of a host just told 1.3.1 dies while it switches.
    const id = await waitFor(
      'a host told 1.3.1',
      async () => (await rollout())?.targets.find((t) => t.assigned === '1.3.1')?.name ?? null,
      30_000,
    );
    const name = (await json<HostsResponse>('hosts')).hosts.find((h) => h.id === id)!.name;
    const i = Number(name.replace('web-', ''));
    agents[i]!.child.kill('SIGKILL');
    await agents[i]!.exited;
    const before = loads[i]!.report.requests;
    await waitFor('requests served without the agent', () => loads[i]!.report.requests > before + 200);
    const stoppedAt = Date.now();
    agents[i] = startAgent(i);
    await waitFor(
      'the agent to report again',
      async () => ((await hostSeenAt(name)) ?? 0) > stoppedAt,
      60_000,
    );
    await waitFor(
      'the rollout of 1.3.1 to succeed',
      async () => {
        const r = await rollout();
        if (r?.rolling === '1.3.1' && r.status !== 'running' && r.status !== 'succeeded')
          throw new Error(`the rollout ended ${r.status}: ${r.progress}`);
        return r?.rolling === '1.3.1' && r.status === 'succeeded';
      },
      90_000,
    );
    for (const report of await Promise.all(loads.map((l) => l.stop())))
      expect(report.failures, report.samples.join('\n')).toBe(0);
    for (let h = 0; h < HOSTS; h++) expect(await served(h)).toContain('1.3.1');
  }, 180_000);

  it('kill -9 of the server mid-rollout: the hosts serve on, and the restarted server resumes the rollout', async () => {
    const loads = net.hosts.map((h) => startLoad(h.url(APP_PORT), { connections: 2, maxMs: 120_000 }));
    await waitFor('load to flow on every host', () => loads.every((l) => l.report.requests > 20));
    const started = await cli('deploy', 'hello', '1.4.0');
    expect(started.code, started.stderr).toBe(0);
    await waitFor(
      'the first batch told',
      async () => {
        const r = await rollout();
        return (r?.targets.filter((t) => t.assigned === '1.4.0').length ?? 0) > 0;
      },
      30_000,
    );
    server.kill('SIGKILL');
    await new Promise((resolve) => server.once('exit', resolve));
    const during = loads.map((l) => l.report.requests);
    await waitFor('every host serving without the server', () =>
      loads.every((l, i) => l.report.requests > during[i]! + 50),
    );
    serverOutput = '';
    server = spawn(process.execPath, [BIN, 'server', '-c', configPath, '--home', home], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    server.stdout!.on('data', (c: Buffer) => (serverOutput += c.toString()));
    server.stderr!.on('data', (c: Buffer) => (serverOutput += c.toString()));
    let last: FleetRollout | null = null;
    await waitFor(
      'the rollout to resume and succeed',
      async () => {
        if (server.exitCode !== null) throw new Error(`ferry server exited:\n${serverOutput}`);
        last = await rollout().catch(() => last);
        return last?.rolling === '1.4.0' && last.status === 'succeeded';
      },
      90_000,
    ).catch((error: unknown) => {
      const log = readFileSync(path.join(home, 'daemon.log'), 'utf8').split('\n').slice(-60).join('\n');
      const said = agents.map((a) => (a.stdout() + a.stderr()).slice(-800)).join('\n---\n');
      throw new Error(
        `${String(error)}\nrollout: ${JSON.stringify(last?.targets)} ${last?.progress}\nserver log:\n${log}\nagents:\n${said}`,
      );
    });
    const reports = await Promise.all(loads.map((l) => l.stop()));
    for (const report of reports) expect(report.failures, report.samples.join('\n')).toBe(0);
    for (let i = 0; i < HOSTS; i++) expect(await served(i)).toContain('1.4.0');
    // One assignment per host for the step: a host is never told two things for it.
    const r = (await rollout())!;
    expect(r.decisions.some((d) => d.kind === 'recovered')).toBe(true);
  }, 240_000);

  it('a signed webhook rolls out its release, from its own URL and checksum, across the hosts', async () => {
    // 1.5.0 is served over HTTP on the server's address, which the hosts reach; the app's
    // artifact template (file:// on the test's machine) is not where the webhook says it is.
    const tarball = readFileSync(path.join(dir, 'dist', 'hello-1.5.0.tar.gz'));
    releasesServer = createServer((request, response) => {
      if (request.url === '/ci/42/hello.tgz') response.writeHead(200).end(tarball);
      else response.writeHead(404).end();
    });
    const port = await freePort();
    await new Promise<void>((resolve) => releasesServer!.listen(port, net.serverAddress, resolve));
    const body = JSON.stringify({
      version: '1.5.0',
      url: `http://${net.serverAddress}:${port}/ci/42/hello.tgz`,
      checksum: `sha256:${createHash('sha256').update(tarball).digest('hex')}`,
    });
    const timestamp = String(Math.floor(Date.now() / 1000));
    const signature = createHmac('sha256', HOOK_SECRET).update(`${timestamp}.${body}`).digest('hex');
    const answer = await fetch(`http://127.0.0.1:${hooksPort}/hooks/generic/hello`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'x-ferry-timestamp': timestamp,
        'x-ferry-delivery': 'ci-42',
        'x-ferry-signature-256': `sha256=${signature}`,
      },
      body,
    });
    expect(answer.status, await answer.clone().text()).toBe(202);
    expect(await answer.json()).toMatchObject({
      outcomes: [expect.objectContaining({ env: 'production', action: 'deployed' })],
    });
    await waitFor(
      'the rollout of 1.5.0 to succeed',
      async () => {
        const r = await rollout();
        return r?.rolling === '1.5.0' && r.status === 'succeeded';
      },
      120_000,
    );
    for (let i = 0; i < HOSTS; i++) expect(await served(i)).toContain('1.5.0');
    expect((await rollout())!.trigger).toEqual({ kind: 'webhook', actor: 'webhook:generic:ci-42' });
  }, 180_000);

  it("the app's canary runs within each host, batch by batch; a failing canary returns the fleet to last known good", async () => {
    writeConfig(
      '{ kind: canary, steps: [{ weight: 50%, pause: 1s }], analysis: { max_error_rate: 5%, min_requests: 10, max_wait: 20s } }',
    );
    const applied = await cli('apply', '--yes');
    expect(applied.code, applied.stdout + applied.stderr).toBe(0);
    const loads = net.hosts.map((h) => startLoad(h.url(APP_PORT), { connections: 2, maxMs: 120_000 }));
    await waitFor('load to flow on every host', () => loads.every((l) => l.report.requests > 20));
    // Each host shows its canary step while its batch runs.
    const stepsSeen = new Set<string>();
    const watch = async (version: string) => {
      for (;;) {
        const r = await rollout();
        for (const t of r?.targets ?? [])
          if (/canary step 1\/1 at 50%/.test(t.message ?? '')) stepsSeen.add(t.name);
        if (r?.rolling === version && r.status !== 'running') return r;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    };
    const watching = watch('1.6.0');
    const deployed = await cli('deploy', 'hello', '1.6.0', '--wait');
    const done = await watching;
    expect(deployed.code, deployed.stdout + deployed.stderr).toBe(0);
    expect(done).toMatchObject({ status: 'succeeded', lkg: '1.6.0' });
    expect(stepsSeen.size).toBeGreaterThan(1);
    for (const report of await Promise.all(loads.map((l) => l.stop())))
      expect(report.failures, report.samples.join('\n')).toBe(0);
    for (let i = 0; i < HOSTS; i++) expect(await served(i)).toContain('1.6.0');

    // A release answering errors fails its first host's canary at the analysis, long before the
    // target's deadline: the host goes back by itself, and so does the fleet.
    const erroring = net.hosts.map((h) => startLoad(h.url(APP_PORT), { connections: 2, maxMs: 120_000 }));
    await waitFor('load to flow on every host', () => erroring.every((l) => l.report.requests > 20));
    const failing = await cli('deploy', 'hello', '1.6.1-errors', '--wait');
    await Promise.all(erroring.map((l) => l.stop()));
    expect(failing.code, failing.stdout).toBe(1);
    const back = (await rollout())!;
    expect(back).toMatchObject({ status: 'rolled-back', lkg: '1.6.0', lkb: '1.6.1-errors' });
    const failed = back.decisions.filter((d) => d.kind === 'target-failed');
    expect(failed.length).toBeGreaterThan(0);
    for (const d of failed)
      expect(d.message).toMatch(/deployment of 1\.6\.1-errors failed: canary step 1 at 50%/);
    // The rollouts were told as deployments are: started, and how each ended, with the reason.
    await waitFor('the notifications of both rollouts', () =>
      notified.some((t) => /hello rollout to 1\.6\.1-errors in production: rolled-back \(.*failed/.test(t)),
    );
    expect(notified).toContainEqual(
      expect.stringMatching(/:rocket: hello rollout to 1\.6\.0 in production: rolling out/),
    );
    expect(notified).toContainEqual(':white_check_mark: hello rollout to 1.6.0 in production: succeeded');
    await waitFor(
      'every host back on 1.6.0',
      async () => {
        for (let i = 0; i < HOSTS; i++) if (!(await served(i)).includes('1.6.0')) return false;
        return true;
      },
      60_000,
    );

    // ferry rollback rolls the release before last known good out across the hosts (blue-green:
    // it is proven there), never on the server's own host.
    const rolledBack = await cli('rollback', 'hello', '--wait');
    expect(rolledBack.code, rolledBack.stdout + rolledBack.stderr).toBe(0);
    expect(await rollout()).toMatchObject({ status: 'succeeded', rolling: '1.5.0', lkg: '1.5.0' });
    for (let i = 0; i < HOSTS; i++) expect(await served(i)).toContain('1.5.0');
    // Nothing of the app was ever installed or run on the server's own host.
    expect(existsSync(path.join(home, 'apps', 'hello'))).toBe(false);
  }, 240_000);

  it('an app that left the file keeps running on the hosts until ferry apply --prune takes it off each', async () => {
    writeConfig(null);
    const kept = await cli('apply', '--yes');
    expect(kept.code, kept.stdout + kept.stderr).toBe(0);
    expect(kept.stdout).toContain("keeps running on the environment's hosts (would stop with --prune)");
    for (let i = 0; i < HOSTS; i++) expect(await served(i)).toContain('1.5.0');

    const pruned = await cli('apply', '--prune', '--yes');
    expect(pruned.code, pruned.stdout + pruned.stderr).toBe(0);
    expect(pruned.stdout).toContain("removes its route on the environment's hosts");
    // Each agent drains and stops the app's instances and removes its route: the port closes.
    await waitFor(
      'the app gone from every host',
      async () => {
        for (let i = 0; i < HOSTS; i++)
          if (
            await served(i).then(
              () => true,
              () => false,
            )
          )
            return false;
        return true;
      },
      60_000,
    );
    const hosts = await cli('hosts', '--json');
    expect(hosts.stdout).not.toContain('"app":"hello"');
    expect((await cli('apply', '--prune', '--yes')).stdout).toMatch(/no changes/i);
  }, 120_000);
});
