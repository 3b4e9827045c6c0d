import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readProcessStat } from '../../src/supervisor/proc.js';
import { startLoad } from './load.js';
import { runIproute } from './netns-ip.js';
import {
  createFleetNetwork,
  netnsSkipReason,
  sweepStaleNetworks,
  type FleetNetwork,
  type HostProcess,
} from './netns.js';
import { waitFor } from './wait.js';

const NOBODY = 65534;
/** The same port on every host: each has its own namespace, so its own ports. */
const PORT = 8080;
/** How long a request to a cut host is given to show that no answer comes. */
const CUT_WAIT_MS = 1_000;
const HERE = import.meta.dirname;
const tsxLoader = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;

/**
 * A host's HTTP server: answers with its own address on PORT, and says when it listens. Idle
 * keep-alive connections are kept a minute (not node's 5 s), so that one outlives a cut link.
 */
const HOST_SERVER = `
const address = process.argv[1];
const server = require('node:http').createServer((req, res) => res.end('host ' + address));
server.keepAliveTimeout = 60000;
server.listen(${PORT}, address, () => console.log('listening'));
`;

/**
 * Run inside a namespace: GETs a URL within 1 s and prints the status and body, or the error. It
 * exits at once: an aborted fetch's connection attempt would hold it for undici's 10 s otherwise.
 */
const FETCH_ONCE = `
fetch(process.argv[1], { signal: AbortSignal.timeout(1000) })
  .then(async (res) => console.log(res.status + ' ' + (await res.text())))
  .catch((error) => console.log('failed ' + (error.cause?.code ?? error.name)))
  .finally(() => process.exit(0));
`;

const skip = netnsSkipReason();

async function fetchText(url: string, timeoutMs = 5_000): Promise<string> {
  const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
  return `${res.status} ${await res.text()}`;
}

/** The names of the root namespace's links and of every namespace. */
async function kernelNames(): Promise<{ links: string; namespaces: string }> {
  const links = (await runIproute('ip', ['-o', 'link', 'show'])).stdout;
  const namespaces = (await runIproute('ip', ['netns', 'list'])).stdout;
  return { links, namespaces };
}

function isRunning(pid: number): boolean {
  const stat = readProcessStat(pid);
  return stat !== null && stat.state !== 'Z';
}

describe.skipIf(skip !== null)('fleet network (network namespaces on one bridge)', () => {
  let fleet: FleetNetwork;
  let servers: HostProcess[];

  beforeAll(async () => {
    fleet = await createFleetNetwork({ hosts: 5 });
    servers = fleet.hosts.map((host) => host.spawn(process.execPath, ['-e', HOST_SERVER, host.address]));
    for (const server of servers) {
      await waitFor(`a host's server to listen (${server.stderr()})`, () =>
        server.stdout().includes('listening'),
      );
    }
  });
  afterAll(() => fleet?.close());

  it('gives every host its own namespace and address, each serving the same port, reached from the root namespace', async () => {
    expect(fleet.hosts.map((host) => host.address)).toEqual(
      [10, 11, 12, 13, 14].map((last) => fleet.serverAddress.replace(/\.1$/, `.${last}`)),
    );
    for (const host of fleet.hosts) {
      expect(host.namespace).toMatch(/^fy[0-9a-f]{2}h\d$/);
      expect(await fetchText(host.url(PORT))).toBe(`200 host ${host.address}`);
      expect(await host.reachable(PORT)).toBe(true);
    }
    // A host has no other host's address: its server is its own.
    const inside = await fleet.hosts[0]!.exec('ip', ['-o', '-4', 'addr', 'show']);
    expect(inside.stdout).toContain(`inet ${fleet.hosts[0]!.address}/24`);
    expect(inside.stdout).not.toContain(fleet.hosts[1]!.address);
  });

  it("runs a spawned command as the handle's own process, in the host's namespace; kill ends it", async () => {
    const server = servers[0]!;
    expect(readlinkSync(`/proc/${server.pid}/exe`)).toBe(process.execPath);
    expect(readlinkSync(`/proc/${server.pid}/ns/net`)).not.toBe(readlinkSync('/proc/self/ns/net'));

    const sleeper = fleet.hosts[4]!.spawn('sleep', ['600'], { env: { PATH: '/usr/bin:/bin' } });
    await waitFor('sleep to run in its namespace', () =>
      readlinkSync(`/proc/${sleeper.pid}/exe`).endsWith('/sleep'),
    );
    sleeper.child.kill('SIGTERM');
    expect(await sleeper.exited).toEqual({ code: null, signal: 'SIGTERM' });
    expect(isRunning(sleeper.pid)).toBe(false);

    const env = await fleet.hosts[4]!.exec('sh', ['-c', 'echo "$GREETING from $(pwd)"'], {
      env: { PATH: '/usr/bin:/bin', GREETING: 'hello' },
      cwd: os.tmpdir(),
    });
    expect(env).toMatchObject({ code: 0, stdout: `hello from ${os.tmpdir()}\n` });
  });

  it("lets a host reach a server on the root side's address", async () => {
    const root = http.createServer((_req, res) => res.end('server side'));
    await new Promise<void>((resolve) => root.listen(0, fleet.serverAddress, resolve));
    try {
      const url = `http://${fleet.serverAddress}:${(root.address() as AddressInfo).port}/`;
      const result = await fleet.hosts[3]!.exec(process.execPath, ['-e', FETCH_ONCE, url]);
      expect(result.stdout).toBe('200 server side\n');
    } finally {
      root.closeAllConnections();
      await new Promise((resolve) => root.close(resolve));
    }
  });

  it("a cut link drops the host's traffic both ways, established connections included, until it is restored", async () => {
    const cut = fleet.hosts[2]!;
    const root = http.createServer((_req, res) => res.end('server side'));
    await new Promise<void>((resolve) => root.listen(0, fleet.serverAddress, resolve));
    const rootUrl = `http://${fleet.serverAddress}:${(root.address() as AddressInfo).port}/`;
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    const get = () =>
      new Promise<{ body: string; reused: boolean }>((resolve, reject) => {
        const req = http.get(cut.url(PORT), { agent }, (res) => {
          let body = '';
          res.setEncoding('utf8').on('data', (chunk: string) => (body += chunk));
          res.on('end', () => resolve({ body, reused: req.reusedSocket }));
        });
        req.on('error', reject);
      });
    try {
      expect(await get()).toEqual({ body: `host ${cut.address}`, reused: false });

      await cut.linkDown();
      const pending = get();
      // At once, so that the cut is short and TCP's next retransmission comes soon after linkUp.
      const [onOpenConnection, newRequest, connect, outbound, others] = await Promise.all([
        Promise.race([
          pending.then(() => 'answered'),
          new Promise((resolve) => setTimeout(() => resolve('no answer'), CUT_WAIT_MS)),
        ]),
        fetchText(cut.url(PORT), CUT_WAIT_MS).catch((error: Error) => `failed: ${error.name}`),
        cut.reachable(PORT, CUT_WAIT_MS),
        cut.exec(process.execPath, ['-e', FETCH_ONCE, rootUrl]),
        Promise.all(fleet.hosts.filter((other) => other !== cut).map((other) => fetchText(other.url(PORT)))),
      ]);
      expect(onOpenConnection).toBe('no answer');
      expect(newRequest).toMatch(/^failed: /);
      expect(connect).toBe(false);
      expect(outbound.stdout).toMatch(/^failed /);
      expect(others).toEqual(
        fleet.hosts.filter((other) => other !== cut).map((other) => `200 host ${other.address}`),
      );

      await cut.linkUp();
      // Nothing was reset: the request sent on the old connection during the cut is answered once
      // TCP retransmits it.
      expect(await pending).toEqual({ body: `host ${cut.address}`, reused: true });
      expect(await fetchText(cut.url(PORT))).toBe(`200 host ${cut.address}`);
      expect((await cut.exec(process.execPath, ['-e', FETCH_ONCE, rootUrl])).stdout).toBe(
        '200 server side\n',
      );
    } finally {
      await cut.linkUp();
      agent.destroy();
      root.closeAllConnections();
      await new Promise((resolve) => root.close(resolve));
    }
  });

  it("carries the project's load generator to a host's address", async () => {
    const host = fleet.hosts[1]!;
    const load = startLoad(host.url(PORT), { connections: 4, maxRequests: 400, maxMs: 20_000 });
    await waitFor('400 requests', () => load.report.requests >= 400, 20_000);
    const report = await load.stop();
    expect(report.failures, report.samples.join('\n')).toBe(0);
    expect(report.requests).toBeGreaterThanOrEqual(400);
  });

  it('close() kills what runs in the namespaces, removes every namespace and link it made, and can be called again', async () => {
    const own = await createFleetNetwork({ hosts: 2 });
    const names = [own.bridge, ...own.hosts.map((host) => host.namespace)];
    // A grandchild too: close() kills everything in the namespace, not only what it spawned.
    const shell = own.hosts[1]!.spawn('sh', ['-c', 'sleep 600 & echo $!; wait']);
    const grandchild = Number(await waitFor('the grandchild pid', () => shell.stdout().trim()));
    const before = await kernelNames();
    for (const name of names) expect(`${before.links}\n${before.namespaces}`).toContain(name);

    await own.close();
    await own.close();
    const after = await kernelNames();
    for (const name of names) {
      expect(after.links).not.toMatch(new RegExp(`^\\d+: ${name}[@:]`, 'm'));
      expect(after.namespaces).not.toMatch(new RegExp(`^${name}( |$)`, 'm'));
    }
    expect(isRunning(shell.pid)).toBe(false);
    await waitFor('the grandchild to be gone', () => !isRunning(grandchild), 10_000);
    expect(() => own.hosts[0]!.spawn('true')).toThrow(/is closed/);
    // The fleet of the other tests is untouched.
    expect(await fetchText(fleet.hosts[0]!.url(PORT))).toBe(`200 host ${fleet.hosts[0]!.address}`);
  });

  it('sweeps away the network of a run that died without closing it, and leaves live ones alone', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'ferry-netns-'));
    try {
      const script = path.join(dir, 'dies.mts');
      writeFileSync(
        script,
        `import { createFleetNetwork } from ${JSON.stringify(pathToFileURL(path.join(HERE, 'netns.ts')).href)};
const fleet = await createFleetNetwork({ hosts: 2 });
const sleeper = fleet.hosts[1].spawn('sleep', ['600']);
console.log(JSON.stringify({ bridge: fleet.bridge, namespaces: fleet.hosts.map((h) => h.namespace), sleeper: sleeper.pid }));
setInterval(() => {}, 1000);
`,
      );
      const dying = spawn(process.execPath, ['--import', tsxLoader, script], {
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let output = '';
      dying.stdout.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
      dying.stderr.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
      const line = await waitFor('the dying run to create its network', () =>
        output.includes('\n') ? output.split('\n')[0] : null,
      );
      const leftover = JSON.parse(line) as { bridge: string; namespaces: string[]; sleeper: number };
      const gone = new Promise((resolve) => dying.once('exit', resolve));
      dying.kill('SIGKILL');
      await gone;
      const names = [leftover.bridge, ...leftover.namespaces];
      const before = await kernelNames();
      for (const name of names) expect(`${before.links}\n${before.namespaces}`).toContain(name);
      expect(isRunning(leftover.sleeper)).toBe(true);

      const removed = await sweepStaleNetworks();
      expect(removed).toEqual(expect.arrayContaining(names));
      expect(removed).not.toContain(fleet.bridge);
      const after = await kernelNames();
      for (const name of names) expect(`${after.links}\n${after.namespaces}`).not.toContain(name);
      await waitFor('the leftover process to be gone', () => !isRunning(leftover.sleeper), 10_000);
      expect(await fetchText(fleet.hosts[0]!.url(PORT))).toBe(`200 host ${fleet.hosts[0]!.address}`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses clearly without root, and under CI=true that is a failure, not a skip', () => {
    const script = `
import { createFleetNetwork, netnsSkipReason } from ${JSON.stringify(pathToFileURL(path.join(HERE, 'netns.ts')).href)};
const outcome = (fn) => { try { return { returned: fn() }; } catch (error) { return { threw: error.message }; } };
const created = await createFleetNetwork({ hosts: 1 }).then(() => 'created', (error) => error.message);
process.env.CI = 'true';
const underCi = outcome(netnsSkipReason);
delete process.env.CI;
console.log(JSON.stringify({ created, underCi, locally: outcome(netnsSkipReason) }));
`;
    const result = spawnSync(process.execPath, ['--import', tsxLoader, '--input-type=module', '-e', script], {
      uid: NOBODY,
      gid: NOBODY,
      cwd: os.tmpdir(),
      encoding: 'utf8',
      env: { PATH: process.env.PATH, HOME: os.tmpdir() },
    });
    expect(result.status, result.stderr).toBe(0);
    const report = JSON.parse(result.stdout) as {
      created: string;
      underCi: { threw?: string };
      locally: { returned?: string };
    };
    expect(report.created).toMatch(
      /^the fleet network needs root \(CAP_NET_ADMIN and CAP_SYS_ADMIN missing\)/,
    );
    expect(report.underCi.threw).toMatch(/needs root .*\(CI=true: this is a failure, not a skip\)$/);
    expect(report.locally.returned).toBe(report.created);
    expect(result.stderr).toContain('skipping the fleet network tests: the fleet network needs root');
  });
});
