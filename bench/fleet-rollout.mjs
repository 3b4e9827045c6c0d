#!/usr/bin/env node
// A rolling deploy across 50 hosts: the control plane's time per batch beyond the health gates.
//
// A real `ferry server` runs an environment on enrolled hosts (batches of 5, no soak); 50 simulated
// agents enroll with a join token and speak the real agent protocol over HTTPS (long poll for the
// desired state, reports). A host told a new release "turns healthy" after a fixed gate (GATE_MS)
// and reports at once. Per batch, the control plane's time is from the last report of a batch's
// hosts (all healthy) to the first host of the next batch receiving its new desired state: what
// the server adds to the hosts' own health gates. The peer is the floor of that path: a bare
// HTTPS server (fastify) that answers a waiting long poll the moment a report arrives.
//
//   node bench/fleet-rollout.mjs [--hosts 50] [--batch 5] [--deploys 3]

import { spawn, spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { Agent, request } from 'undici';
import { ensureBuilt, freePort, median, ratio, ROOT, tempDir } from './lib.mjs';

const { values } = parseArgs({
  options: {
    hosts: { type: 'string', default: '50' },
    batch: { type: 'string', default: '5' },
    deploys: { type: 'string', default: '3' },
  },
});
const HOSTS = Number(values.hosts);
const BATCH = Number(values.batch);
const DEPLOYS = Number(values.deploys);
const GATE_MS = 300;
const BIN = path.join(ROOT, 'bin', 'ferry.js');

ensureBuilt();
const dir = tempDir('ferry-bench-fleet-');
const home = path.join(dir, 'home');
const apiPort = await freePort();
const agentsPort = await freePort();
const configPath = path.join(dir, 'ferry.yaml');
writeFileSync(
  configPath,
  [
    `api: { listen: "127.0.0.1:${apiPort}" }`,
    `server: { listen: "127.0.0.1:${agentsPort}" }`,
    'environments: { production: { hosts: { role: web } } }',
    'apps:',
    '  hello:',
    `    artifact: { url: "file://${dir}/hello-{version}.tar.gz" }`,
    '    run: { command: node, args: [server.mjs] }',
    '    listen: "0.0.0.0:8080"',
    `    rollout: { batch: ${BATCH}, max_unavailable: ${BATCH}, soak: 0s, deadline: 60s, silent_after: 30s, unseen_after: 5m }`,
  ].join('\n'),
);

const server = spawn(process.execPath, [BIN, 'server', '-c', configPath, '--home', home], {
  stdio: ['ignore', 'pipe', 'pipe'],
});
let serverOutput = '';
server.stdout.on('data', (c) => (serverOutput += c));
server.stderr.on('data', (c) => (serverOutput += c));
await until('ferry server to be up', () => serverOutput.includes('Ferry is up'), 60_000);

const token = readFileSync(path.join(home, 'api-token'), 'utf8').trim();
const api = `http://127.0.0.1:${apiPort}`;
const apiCall = async (method, url, body) => {
  const res = await request(`${api}${url}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
    ...(body ? { body: JSON.stringify(body) } : {}),
  });
  const text = await res.body.text();
  if (res.statusCode >= 300) throw new Error(`${method} ${url}: ${res.statusCode} ${text}`);
  return JSON.parse(text);
};
const { token: joinToken } = await apiCall('POST', '/v1/join-tokens', {
  ttl: '1h',
  uses: HOSTS,
  labels: { role: 'web' },
});
const ca = readFileSync(path.join(home, 'tls', 'ca.pem'), 'utf8');
const dispatcher = new Agent({ connect: { ca }, connections: HOSTS * 2, bodyTimeout: 0, headersTimeout: 0 });
const agentsUrl = `https://127.0.0.1:${agentsPort}`;

/** One simulated host: the release it serves healthily, what it was told, and when. */
const hosts = [];
for (let i = 0; i < HOSTS; i++) {
  const res = await request(`${agentsUrl}/v1/agent/enroll`, {
    method: 'POST',
    dispatcher,
    headers: { authorization: `Bearer ${joinToken}`, 'content-type': 'application/json' },
    body: JSON.stringify({ name: `sim-${String(i).padStart(2, '0')}` }),
  });
  const answer = await res.body.json();
  hosts.push({
    id: answer.host.id,
    credential: answer.credential,
    serving: null,
    told: null,
    revision: 0,
    log: [],
  });
}
let stopped = false;
for (const host of hosts) void follow(host);
for (const host of hosts) void heartbeat(host);

console.log(
  `${HOSTS} simulated hosts enrolled; batches of ${BATCH}; each host healthy ${GATE_MS} ms after it is told`,
);
await deploy('1.0.0');
const overheads = [];
for (let d = 1; d <= DEPLOYS; d++) overheads.push(...(await deploy(`1.${d}.0`)));
stopped = true;

const floor = await relayFloor(40);
const ferry = median(overheads);
console.log('');
console.log(`control plane per batch beyond the health gates (${overheads.length} batches):`);
console.log(
  `  Ferry:  median ${ferry.toFixed(1)} ms, p90 ${percentile(overheads, 0.9).toFixed(1)} ms, max ${Math.max(...overheads).toFixed(1)} ms (the issue's bar: median 100 ms)`,
);
console.log(
  `  floor (bare HTTPS relay: a report answers a waiting poll): median ${median(floor).toFixed(1)} ms`,
);
console.log(`  ratio Ferry / floor: ${ratio(ferry, median(floor))}`);
server.kill('SIGTERM');
await new Promise((resolve) => server.once('exit', resolve));
// The server's router outlives it, as on any host: stop it too.
spawnSync(process.execPath, [BIN, 'down', '-c', configPath, '--home', home], { stdio: 'ignore' });
await dispatcher.close();
process.exit(0);

/** Deploys `version`, waits for success, returns the control plane's time per batch after the first. */
async function deploy(version) {
  for (const host of hosts) host.log = [];
  const started = performance.now();
  await apiCall('POST', '/v1/deployments', { app: 'hello', env: 'production', version });
  await until(
    `the rollout of ${version}`,
    async () => {
      const { rollout } = await apiCall('GET', '/v1/apps/hello/rollout?env=production');
      if (rollout.status === 'rolled-back' || rollout.status === 'failed') throw new Error(rollout.progress);
      return rollout.rolling === version && rollout.status === 'succeeded';
    },
    300_000,
  );
  // Batches in the order they were told; each batch's hosts are told at once.
  const told = hosts.map((h) => h.log.find((e) => e.version === version)).filter(Boolean);
  told.sort((a, b) => a.toldAt - b.toldAt);
  const batches = [];
  for (const entry of told) {
    const last = batches.at(-1);
    if (last && entry.toldAt - last[0].toldAt < GATE_MS / 2) last.push(entry);
    else batches.push([entry]);
  }
  const gaps = [];
  for (let b = 1; b < batches.length; b++) {
    const healthyAt = Math.max(...batches[b - 1].map((e) => e.healthyAt));
    gaps.push(Math.min(...batches[b].map((e) => e.toldAt)) - healthyAt);
  }
  console.log(
    `  ${version}: ${batches.length} batches in ${((performance.now() - started) / 1000).toFixed(1)} s; per batch beyond the gates: median ${median(gaps).toFixed(1)} ms`,
  );
  return gaps;
}

/** The host's long poll: a release given all the traffic turns healthy GATE_MS later, and is reported at once. */
async function follow(host) {
  while (!stopped) {
    const res = await request(`${agentsUrl}/v1/agent/desired?after=${host.revision}`, {
      dispatcher,
      headers: { authorization: `Bearer ${host.credential}` },
    }).catch(() => null);
    if (res === null) continue;
    if (res.statusCode !== 200) {
      await res.body.dump();
      continue;
    }
    const doc = await res.body.json();
    host.revision = doc.revision;
    const app = doc.apps.find((a) => a.app === 'hello');
    const version = app?.releases.find((r) => r.weight > 0)?.version ?? null;
    if (version === null || version === host.told) continue;
    host.told = version;
    const entry = { version, toldAt: performance.now(), healthyAt: 0 };
    host.log.push(entry);
    setTimeout(() => {
      host.serving = version;
      entry.healthyAt = performance.now();
      void report(host);
    }, GATE_MS);
  }
}

async function heartbeat(host) {
  while (!stopped) {
    await report(host);
    await new Promise((resolve) => setTimeout(resolve, 1_000));
  }
}

function report(host) {
  const v = host.serving;
  const body = {
    host: host.id,
    agentVersion: 'bench',
    revision: host.revision,
    at: Date.now(),
    labels: {},
    apps: [
      {
        app: 'hello',
        env: 'production',
        releases: v ? [{ version: v, install: 'installed' }] : [],
        instances: v
          ? [
              {
                id: `${host.id}-1`,
                version: v,
                state: 'running',
                health: 'healthy',
                pid: 1,
                startedAt: 0,
                restarts: 0,
                lastExit: null,
                cpuPercent: null,
                rssBytes: null,
              },
            ]
          : [],
        current: v,
        traffic: v ? [{ version: v, weight: 1 }] : [],
        route: null,
        tasks: [],
      },
    ],
  };
  return request(`${agentsUrl}/v1/agent/report`, {
    method: 'POST',
    dispatcher,
    headers: { authorization: `Bearer ${host.credential}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  })
    .then((res) => res.body.dump())
    .catch(() => undefined);
}

/** The floor: a bare HTTPS server where a report answers a waiting long poll, timed end to end. */
async function relayFloor(rounds) {
  const { default: Fastify } = await import('fastify');
  const key = readFileSync(path.join(home, 'tls', 'server-key.pem'), 'utf8');
  const cert = readFileSync(path.join(home, 'tls', 'server.pem'), 'utf8');
  const app = Fastify({ https: { key, cert } });
  let waiting = null;
  app.get('/poll', () => new Promise((resolve) => (waiting = resolve)));
  app.post('/report', (req) => {
    waiting?.({ ok: true, report: req.body });
    waiting = null;
    return { ok: true };
  });
  const port = await freePort();
  await app.listen({ host: '127.0.0.1', port });
  const base = `https://127.0.0.1:${port}`;
  const samples = [];
  for (let r = 0; r < rounds; r++) {
    const polled = request(`${base}/poll`, { dispatcher }).then((res) => res.body.json());
    await new Promise((resolve) => setTimeout(resolve, 20));
    const sent = performance.now();
    await request(`${base}/report`, {
      method: 'POST',
      dispatcher,
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ host: 'x', apps: [] }),
    }).then((res) => res.body.dump());
    await polled;
    samples.push(performance.now() - sent);
  }
  await app.close();
  return samples;
}

function percentile(values, p) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))];
}

async function until(what, check, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (server.exitCode !== null) throw new Error(`ferry server exited:\n${serverOutput}`);
    if (await check()) return;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
