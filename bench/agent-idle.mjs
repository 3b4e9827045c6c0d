#!/usr/bin/env node
// The idle RSS of `ferry agent` (the agent process alone: its router and the app's instances are
// processes of their own), the median of samples taken after it sat idle:
//   1. enrolled with a real `ferry server` that gives it nothing to run (no app);
//   2. running hello with 1 instance, its release fetched over HTTP from a local release server:
//      the desired state is published through the server's pieces
//      run in this process (the agents' HTTPS listener, a HostExchange, Trust), as
//      src/agent/process/agent-process.test.ts does, since the server has no way yet to give a
//      remote host an app.
// The peer: PM2's daemon (God) running the same hello with 1 instance (fork mode), installed from
// npm into a temp dir.
// Besides RSS, each process's private memory (USS: its own pages, what stopping it frees; RSS also
// counts the node binary's and shared libraries' pages, which every node process on the host shares).
//   Usage: node bench/agent-idle.mjs [--idle 30] [--samples 10] [--node-flags=--no-opt]
import { execFileSync, spawn } from 'node:child_process';
import { createReadStream, existsSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import process from 'node:process';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import {
  ROOT,
  cpuSeconds,
  ensureBuilt,
  freePort,
  median,
  memoryMb,
  privateMb,
  ratio,
  tempDir,
  waitForPort,
} from './lib.mjs';

const { values } = parseArgs({
  options: {
    idle: { type: 'string', default: '30' },
    samples: { type: 'string', default: '10' },
    'node-flags': { type: 'string' },
  },
});
const IDLE_SECONDS = Number(values.idle);
const SAMPLES = Number(values.samples);
const BOUND_MB = 60;

ensureBuilt();
const dir = tempDir('ferry-bench-agent-idle-');
const dist = path.join(dir, 'dist');
execFileSync(process.execPath, [path.join(ROOT, 'examples/hello/build.mjs'), '--out', dist], {
  stdio: 'ignore',
});
const bin = path.join(ROOT, 'bin/ferry.js');
const dist$ = (file) => import(path.join(ROOT, 'dist', file));
const cleanups = [];

try {
  console.log('1. ferry agent enrolled with ferry server, no app...');
  const empty = await agentWithoutApp();
  console.log(`2. ferry agent running hello (1 instance)...`);
  const hello = await agentWithHello();
  console.log('3. PM2 (God daemon) running hello (1 instance)...');
  const pm2 = await pm2WithHello();
  print({ empty, hello, pm2 });
} finally {
  for (const cleanup of cleanups.reverse()) await cleanup().catch((error) => console.error(String(error)));
  rmSync(dir, { recursive: true, force: true });
}

/** A real `ferry server` with no apps, and one real `ferry agent` enrolled with it. */
async function agentWithoutApp() {
  const home = path.join(dir, 'server');
  const env = { ...process.env, FERRY_HOME: home };
  const config = path.join(dir, 'server.yaml');
  const agentsPort = await freePort();
  writeFileSync(
    config,
    `api: { listen: "127.0.0.1:${await freePort()}" }\nserver: { listen: "127.0.0.1:${agentsPort}" }\n`,
  );
  const server = spawn(bin, ['server', '-c', config], { env, stdio: ['ignore', 'pipe', 'inherit'] });
  cleanups.push(async () => {
    await stopped(server);
    execFileSync(bin, ['down', '-c', config], { env, stdio: 'ignore' });
  });
  await printed(server, 'Ferry is up');
  const created = JSON.parse(
    execFileSync(bin, ['join-token', 'create', '--ttl', '1h', '--json', '-c', config], {
      env,
      encoding: 'utf8',
    }),
  );
  const dataDir = path.join(dir, 'agent-empty');
  const agent = await startAgent({
    server: created.agents.url,
    caFingerprint: created.agents.caFingerprint,
    token: created.token,
    dataDir,
  });
  // Its router outlives it, as in production.
  cleanups.push(() => stopRouter(dataDir));
  const result = await idleSamples(agent.pid);
  await agent.stop();
  return result;
}

/** One real `ferry agent` running hello (1 instance), its desired state published in this process. */
async function agentWithHello() {
  const { openSqliteKvStore } = await dist$('store/kv/sqlite-kv.js');
  const { Trust } = await dist$('server/trust/trust.js');
  const { HostExchange } = await dist$('server/agent-api/host-exchange.js');
  const { KvDesiredStates } = await dist$('server/agent-api/kv-desired-states.js');
  const { listenForAgents } = await dist$('server/agents-listener.js');
  const { silentLogger } = await dist$('lib/logger.js');
  const { parseConfig } = await dist$('config/load.js');
  const { appSpecOf } = await dist$('protocol/app-spec.js');
  const { steadyApp, emptyApp } = await dist$('runtime/desired/edits.js');

  const kv = await openSqliteKvStore(':memory:');
  const trust = new Trust(kv);
  const exchange = new HostExchange({ desired: new KvDesiredStates(kv) });
  const agentsPort = await freePort();
  const listener = await listenForAgents({
    settings: { listen: { host: '127.0.0.1', port: agentsPort }, names: [], tls: null },
    dataDir: path.join(dir, 'in-process-server'),
    exchange,
    trust,
    logger: silentLogger(),
  });
  cleanups.push(async () => {
    await listener.close();
    exchange.close();
    trust.close();
    await kv.close();
  });
  const { token } = await trust.createJoinToken({ ttlMs: 3_600_000 });
  const dataDir = path.join(dir, 'agent-hello');
  const agent = await startAgent({
    server: listener.url,
    caFingerprint: listener.tls.caFingerprint,
    token,
    dataDir,
  });
  cleanups.push(async () => {
    const report = exchange.latestReport(agent.hostId)?.report;
    for (const app of report?.apps ?? [])
      for (const instance of app.instances) if (instance.pid !== null) process.kill(instance.pid, 'SIGTERM');
    await stopRouter(dataDir);
  });
  const artifactBase = await serveReleases();
  const appPort = await freePort();
  const config = parseConfig(
    [
      'environments: { production: { hosts: { role: web } } }',
      'apps:',
      '  hello:',
      `    artifact: { url: "${artifactBase}/hello-{version}.tar.gz", checksums: "${artifactBase}/SHA256SUMS" }`,
      '    run: { command: node, args: [server.mjs] }',
      '    instances: 1',
      `    listen: 127.0.0.1:${appPort}`,
      '    health: { http: { path: /healthz }, interval: 1s }',
    ].join('\n'),
    { configPath: null, env: {} },
  );
  const spec = appSpecOf(config.apps.hello, 'production', 'digest-1.0.0');
  const app = steadyApp(emptyApp('hello', 'production', spec), '1.0.0', 1);
  await exchange.publish(agent.hostId, { apps: [{ ...app, spec }] }, { ifRevision: 0 });
  await exchange.waitForReport(
    agent.hostId,
    ({ report }) =>
      report.apps.some((a) => a.app === 'hello' && a.instances.some((i) => i.health === 'healthy')),
    AbortSignal.timeout(60_000),
  );
  const served = await (await fetch(`http://127.0.0.1:${appPort}/`)).text();
  if (!served.includes('1.0.0')) throw new Error(`hello does not answer through the router: ${served}`);
  const result = await idleSamples(agent.pid);
  await agent.stop();
  return result;
}

/** Serves the release tarballs over HTTP on loopback, as a release server would; resolves with its base URL. */
async function serveReleases() {
  const server = http.createServer((request, response) => {
    const file = path.join(dist, path.basename(new URL(request.url, 'http://x').pathname));
    if (!existsSync(file)) return response.writeHead(404).end();
    response.writeHead(200, { 'content-length': statSync(file).size });
    createReadStream(file).pipe(response);
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanups.push(() => new Promise((resolve) => server.close(resolve)));
  return `http://127.0.0.1:${server.address().port}`;
}

/** PM2's daemon running hello (fork mode, 1 instance). */
async function pm2WithHello() {
  console.log('   installing pm2 from npm...');
  execFileSync(
    'npm',
    ['install', '--prefix', path.join(dir, 'pm2'), 'pm2@latest', '--no-audit', '--no-fund', '--silent'],
    { stdio: 'inherit' },
  );
  const pm2 = path.join(dir, 'pm2/node_modules/.bin/pm2');
  const pm2Home = path.join(dir, 'pm2-home');
  const env = { ...process.env, PM2_HOME: pm2Home };
  const release = path.join(dir, 'pm2-release');
  execFileSync('mkdir', ['-p', release]);
  execFileSync('tar', ['-xzf', path.join(dist, 'hello-1.0.0.tar.gz'), '-C', release]);
  const port = await freePort();
  cleanups.push(async () => execFileSync(pm2, ['kill'], { env, stdio: 'ignore' }));
  execFileSync(pm2, ['start', path.join(release, 'server.mjs'), '--name', 'hello'], {
    env: { ...env, PORT: String(port) },
    stdio: 'ignore',
  });
  await waitForPort(port);
  const god = Number(readFileSync(path.join(pm2Home, 'pm2.pid'), 'utf8'));
  return idleSamples(god);
}

async function stopRouter(agentDataDir) {
  const { RouterClient } = await dist$('router/client.js');
  await new RouterClient({ stateDir: path.join(agentDataDir, 'router') }).stop();
}

/** Starts `ferry agent` (the command itself, so its runtime flags apply) and waits until it follows its server. */
async function startAgent({ server, caFingerprint, token, dataDir }) {
  // --node-flags: run as `node FLAGS bin/ferry.js` with the environment bin/ferry.js sets itself.
  const nodeFlags = values['node-flags']?.split(' ').filter(Boolean) ?? [];
  const child = spawn(
    nodeFlags.length > 0 ? process.execPath : bin,
    [
      ...(nodeFlags.length > 0 ? [...nodeFlags, bin] : []),
      'agent',
      '--server',
      server,
      '--ca-fingerprint',
      caFingerprint,
      '--token',
      token,
      '--name',
      'idle-1',
      '--data-dir',
      dataDir,
    ],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
      env: { ...process.env, MALLOC_ARENA_MAX: '1', UV_THREADPOOL_SIZE: '2' },
    },
  );
  const line = await printed(child, 'follows');
  return {
    pid: child.pid,
    hostId: /\(([0-9a-f]{16})\)/.exec(line)[1],
    stop: () => stopped(child),
  };
}

/** Waits IDLE_SECONDS, then takes SAMPLES of the process's RSS a second apart; its CPU over the whole time. */
async function idleSamples(pid) {
  const cpuBefore = cpuSeconds(pid);
  const started = Date.now();
  await sleep(IDLE_SECONDS * 1000);
  const samples = [];
  const private_ = [];
  for (let i = 0; i < SAMPLES; i++) {
    samples.push(memoryMb(pid));
    private_.push(privateMb(pid));
    await sleep(1000);
  }
  const cpuPercent = ((cpuSeconds(pid) - cpuBefore) / ((Date.now() - started) / 1000)) * 100;
  return {
    rssMb: median(samples),
    minMb: Math.min(...samples),
    maxMb: Math.max(...samples),
    ussMb: median(private_),
    cpuPercent,
  };
}

function print({ empty, hello, pm2 }) {
  const row = (name, r) =>
    `${name.padEnd(40)} ${r.rssMb.toFixed(1).padStart(7)} ${`${r.minMb.toFixed(1)}-${r.maxMb.toFixed(1)}`.padStart(12)} ${r.ussMb.toFixed(1).padStart(7)} ${r.cpuPercent.toFixed(2).padStart(6)}`;
  console.log(
    `\nidle RSS of the process alone (not its router or instances), median of ${SAMPLES} samples after ${IDLE_SECONDS} s idle\n`,
  );
  console.log(`${'process'.padEnd(40)}  RSS MB    min-max MB  USS MB   CPU%`);
  console.log(row('ferry agent, no app', empty));
  console.log(row('ferry agent, hello (1 instance)', hello));
  console.log(row('PM2 daemon (God), hello (1 instance)', pm2));
  console.log(
    `\nferry agent (hello) / PM2 daemon: RSS ${ratio(hello.rssMb, pm2.rssMb)}x, USS ${ratio(hello.ussMb, pm2.ussMb)}x`,
  );
  if (values['node-flags']) console.log(`ferry agent run with node ${values['node-flags']}`);
  console.log(
    `bound: ferry agent idle RSS with one app ${hello.rssMb.toFixed(1)} MB (at most ${BOUND_MB} MB: ${hello.rssMb <= BOUND_MB ? 'met' : 'MISSED'})`,
  );
}

/** Resolves with the first line of the child's stdout that contains `text`. */
function printed(child, text) {
  return new Promise((resolve, reject) => {
    let output = '';
    child.stdout.on('data', (chunk) => {
      output += chunk;
      const line = output.split('\n').find((l) => l.includes(text));
      if (line !== undefined) resolve(line);
    });
    child.once('exit', (code) => reject(new Error(`exited (${code}) before printing ${text}: ${output}`)));
  });
}

async function stopped(child) {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const gone = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  await gone;
}
