#!/usr/bin/env node
// A fleet on the real agent protocol: a real `ferry server` (HTTPS with its own CA), N simulated
// agents enrolled with one join token, each holding a long poll for its desired state open and
// reporting (one app, 2 instances, route counters) every second with jitter, over its own HTTPS
// connections pinned to the server's CA. After a warm-up, over a window: the server process's CPU
// (% of one core) and RSS, report latency, errors. The peer, under the same load from the same
// clients: a bare Fastify HTTPS server that parses each report and drops it (the floor of the work).
// The simulated agents run in worker processes; on a 2-core machine they compete with the server
// for the CPU, which the printout shows (client CPU).
//   Usage: node bench/fleet-agents.mjs [--agents 1000] [--workers 3] [--seconds 30] [--warmup 15] [--ramp 10]
//          [--cpu-prof DIR]   (the server's CPU profile, node --cpu-prof, written into DIR)
import { execFileSync, fork, spawn } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import process from 'node:process';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { ROOT, cpuSeconds, cpuTimes, ensureBuilt, freePort, memoryMb, ratio, tempDir } from './lib.mjs';
import { fleetReport } from './fleet-report.mjs';

const { values } = parseArgs({
  options: {
    agents: { type: 'string', default: '1000' },
    workers: { type: 'string', default: '3' },
    seconds: { type: 'string', default: '30' },
    warmup: { type: 'string', default: '15' },
    ramp: { type: 'string', default: '10' },
    'cpu-prof': { type: 'string' },
  },
});
const AGENTS = Number(values.agents);
const WORKERS = Number(values.workers);
const SECONDS = Number(values.seconds);
const WARMUP = Number(values.warmup);
const RAMP = Number(values.ramp);
const INTERVAL_MS = 1000;
const JITTER = 0.1;
const BOUNDS = { cpuPercent: 30, rssMb: 300 };

ensureBuilt();
// The simulated report is one the server takes: checked with the protocol's own schema.
const { hostReportSchema } = await import(path.join(ROOT, 'dist/protocol/report.js'));
hostReportSchema.parse(fleetReport('0123456789abcdef', 'a', { seq: 1, requests: 100 }));

const dir = tempDir('ferry-bench-fleet-');
const home = path.join(dir, 'home');
const env = { ...process.env, FERRY_HOME: home };
const bin = path.join(ROOT, 'bin/ferry.js');
const config = path.join(dir, 'ferry.yaml');
const agentsPort = await freePort();
writeFileSync(
  config,
  `api: { listen: "127.0.0.1:${await freePort()}" }\nserver: { listen: "127.0.0.1:${agentsPort}" }\n`,
);
const members = Array.from({ length: AGENTS }, (_, i) => ({
  name: `sim-${String(i + 1).padStart(5, '0')}`,
  zone: `z${i % 3}`,
}));

let server = null;
let floor = null;
try {
  // --- Ferry ----------------------------------------------------------------------------------------
  server = await startFerryServer();
  const ca = readFileSync(path.join(home, 'tls/ca.pem'), 'utf8');
  const serverUrl = `https://127.0.0.1:${agentsPort}`;
  const idleRssMb = memoryMb(server.pid);
  const { token } = JSON.parse(
    execFileSync(
      bin,
      ['join-token', 'create', '--ttl', '1h', '--uses', String(AGENTS), '--json', '-c', config],
      { env, encoding: 'utf8' },
    ),
  );
  console.log(`enrolling ${AGENTS} agents over HTTPS (${WORKERS} worker processes)...`);
  const enrollStarted = Date.now();
  const ferryWorkers = await startWorkers({ serverUrl, ca, joinToken: token, members });
  const enrollSeconds = (Date.now() - enrollStarted) / 1000;
  const enrolled = ferryWorkers.flatMap((w) => w.members);
  console.log(`enrolled ${enrolled.length} in ${enrollSeconds.toFixed(1)} s; measuring ferry server...`);
  const ferry = await measure(server.pid, ferryWorkers);
  // What an operator sees: every simulated host listed with its last report.
  const listStarted = Date.now();
  const { hosts } = JSON.parse(
    execFileSync(bin, ['hosts', '--json', '-c', config], { env, encoding: 'utf8' }),
  );
  const hostsListed = {
    reporting: hosts.filter((h) => h.agentVersion !== null && h.apps.length === 1).length,
    ms: Date.now() - listStarted,
  };
  await stopWorkers(ferryWorkers);
  await stopFerryServer();

  // --- the floor: a bare Fastify HTTPS server, the same clients and reports -------------------------
  const floorPort = await freePort();
  floor = spawn(
    process.execPath,
    [
      ...profileFlags(),
      path.join(ROOT, 'bench/fleet-floor-server.mjs'),
      String(floorPort),
      path.join(home, 'tls/server.pem'),
      path.join(home, 'tls/server-key.pem'),
    ],
    { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] },
  );
  await outputIncludes(floor, 'listening');
  console.log('measuring the floor (Fastify, parse and drop)...');
  const floorWorkers = await startWorkers({
    serverUrl: `https://127.0.0.1:${floorPort}`,
    ca,
    joinToken: null,
    members: enrolled,
  });
  const bare = await measure(floor.pid, floorWorkers);
  await stopWorkers(floorWorkers);
  const floorGone = new Promise((resolve) => floor.once('exit', resolve));
  floor.kill('SIGTERM');
  await floorGone;

  print({ ferry, bare, idleRssMb, enrollSeconds, hostsListed });
} finally {
  floor?.kill('SIGKILL');
  await stopFerryServer();
  rmSync(dir, { recursive: true, force: true });
}

async function startFerryServer() {
  // Started as the `ferry` command itself, so its runtime flags (see bin/ferry.js) apply.
  const profiled = values['cpu-prof'];
  const child =
    profiled === undefined
      ? spawn(bin, ['server', '-c', config], { env, stdio: ['ignore', 'pipe', 'inherit'] })
      : spawn(process.execPath, [...profileFlags(), bin, 'server', '-c', config], {
          env: { ...env, MALLOC_ARENA_MAX: '1', UV_THREADPOOL_SIZE: '2' },
          stdio: ['ignore', 'pipe', 'inherit'],
        });
  await outputIncludes(child, 'Ferry is up');
  return child;
}

/** node --cpu-prof's flags with --cpu-prof DIR, named after the process's pid; none without. */
function profileFlags() {
  const profiled = values['cpu-prof'];
  return profiled === undefined ? [] : ['--cpu-prof', '--cpu-prof-dir', path.resolve(profiled)];
}

async function stopFerryServer() {
  if (server === null) return;
  if (server.exitCode === null && server.signalCode === null) {
    const gone = new Promise((resolve) => server.once('exit', resolve));
    server.kill('SIGTERM');
    await gone;
  }
  server = null;
  // The router it started outlives it, as in production: `ferry down` stops it.
  execFileSync(bin, ['down', '-c', config], { env, stdio: 'ignore' });
}

function outputIncludes(child, text) {
  return new Promise((resolve, reject) => {
    let output = '';
    child.stdout.on('data', (chunk) => {
      output += chunk;
      if (output.includes(text)) resolve();
    });
    child.once('exit', (code) => reject(new Error(`exited (${code}) before printing ${text}: ${output}`)));
  });
}

/** Forks the worker processes, gives each its share of the agents, and waits for them to enroll. */
async function startWorkers({ serverUrl, ca, joinToken, members }) {
  const workers = Array.from({ length: WORKERS }, (_, i) => {
    const child = fork(path.join(ROOT, 'bench/fleet-agents-worker.mjs'), [], { cwd: ROOT, stdio: 'inherit' });
    child.on('message', (message) => {
      if (message.type === 'failed') {
        console.error(`worker ${i} failed: ${message.error}`);
        process.exit(1);
      }
    });
    return { child, share: members.filter((_, m) => m % WORKERS === i), members: [] };
  });
  await Promise.all(
    workers.map(async (worker) => {
      const answer = await ask(
        worker,
        { type: 'enroll', serverUrl, ca, joinToken, members: worker.share },
        'enrolled',
      );
      worker.members = answer.members;
    }),
  );
  return workers;
}

async function stopWorkers(workers) {
  await Promise.all(workers.map((worker) => ask(worker, { type: 'stop' }, 'stopped')));
}

function ask(worker, message, answerType) {
  return new Promise((resolve) => {
    const onMessage = (answer) => {
      if (answer.type !== answerType) return;
      worker.child.off('message', onMessage);
      resolve(answer);
    };
    worker.child.on('message', onMessage);
    worker.child.send(message);
  });
}

/** Runs the load: a warm-up, then the window, sampling the server's CPU time and RSS. */
async function measure(pid, workers) {
  await Promise.all(
    workers.map((w) =>
      ask(w, { type: 'run', intervalMs: INTERVAL_MS, jitter: JITTER, rampMs: RAMP * 1000 }, 'running'),
    ),
  );
  await sleep((RAMP + WARMUP) * 1000);
  await Promise.all(workers.map((w) => ask(w, { type: 'window' }, 'window')));
  const started = Date.now();
  const cpuBefore = cpuSeconds(pid);
  const systemBefore = cpuTimes(pid).system;
  const clientBefore = workers.reduce((sum, w) => sum + cpuSeconds(w.child.pid), 0);
  const rss = [];
  while (Date.now() - started < SECONDS * 1000) {
    await sleep(1000);
    rss.push(memoryMb(pid));
  }
  const seconds = (Date.now() - started) / 1000;
  const cpu = cpuSeconds(pid) - cpuBefore;
  const system = cpuTimes(pid).system - systemBefore;
  const clientCpu = workers.reduce((sum, w) => sum + cpuSeconds(w.child.pid), 0) - clientBefore;
  const results = await Promise.all(workers.map((w) => ask(w, { type: 'result' }, 'result')));
  const latencies = results.flatMap((r) => r.latenciesMs).sort((a, b) => a - b);
  const reports = results.reduce((sum, r) => sum + r.reports, 0);
  return {
    pid,
    cpuPercent: (cpu / seconds) * 100,
    systemPercent: (system / seconds) * 100,
    cpuPerReportUs: (cpu / reports) * 1e6,
    clientCpuPercent: (clientCpu / seconds) * 100,
    rssMb: Math.max(...rss),
    hwmMb: memoryMb(pid, 'VmHWM'),
    reportsPerSecond: reports / seconds,
    polls: results.reduce((sum, r) => sum + r.polls, 0),
    p50: percentile(latencies, 0.5),
    p99: percentile(latencies, 0.99),
    errors: results.reduce((sum, r) => sum + r.totalErrors, 0),
    errorSamples: results.flatMap((r) => r.totalErrorSamples).slice(0, 5),
  };
}

function print({ ferry, bare, idleRssMb, enrollSeconds, hostsListed }) {
  const row = (name, r) =>
    `${name.padEnd(28)} ${r.cpuPercent.toFixed(1).padStart(6)} ${r.cpuPerReportUs.toFixed(0).padStart(7)} ${r.rssMb
      .toFixed(0)
      .padStart(6)} ${r.reportsPerSecond.toFixed(0).padStart(8)} ${r.p50.toFixed(1).padStart(6)} ${r.p99
      .toFixed(1)
      .padStart(7)} ${String(r.errors).padStart(6)} ${r.clientCpuPercent.toFixed(0).padStart(10)}`;
  console.log(
    `\n${AGENTS} simulated agents on the agent protocol over HTTPS, each a long poll + a report every ${INTERVAL_MS} ms (±${JITTER * 100}%), agents starting over ${RAMP} s, window ${SECONDS} s after ${WARMUP} s warm-up\n`,
  );
  console.log(
    'server                         CPU%  µs/rep RSS MB reports/s  p50ms   p99ms errors client CPU%',
  );
  console.log(row('ferry server', ferry));
  console.log(row('floor (Fastify, parse+drop)', bare));
  for (const [name, r] of [
    ['ferry', ferry],
    ['floor', bare],
  ])
    if (r.errors > 0) console.log(`${name} errors: ${r.errorSamples.join('; ')}`);
  console.log(
    `of which in the kernel (system time): ferry ${ferry.systemPercent.toFixed(1)}%, floor ${bare.systemPercent.toFixed(1)}%`,
  );
  console.log(
    `\nferry server / floor: CPU ${ratio(ferry.cpuPercent, bare.cpuPercent)}x, RSS ${ratio(ferry.rssMb, bare.rssMb)}x, p99 ${ratio(ferry.p99, bare.p99)}x`,
  );
  console.log(
    `ferry server RSS before the agents: ${idleRssMb.toFixed(0)} MB; peak (VmHWM) ${ferry.hwmMb.toFixed(0)} MB; enrollment of ${AGENTS}: ${enrollSeconds.toFixed(1)} s`,
  );
  console.log(
    `ferry hosts --json: ${hostsListed.reporting} of ${AGENTS} hosts listed with their last report (${hostsListed.ms} ms)`,
  );
  console.log(
    `bounds: CPU ${ferry.cpuPercent.toFixed(1)}% of one core (at most ${BOUNDS.cpuPercent}%: ${ferry.cpuPercent <= BOUNDS.cpuPercent ? 'met' : 'MISSED'}), RSS ${ferry.rssMb.toFixed(0)} MB (at most ${BOUNDS.rssMb} MB: ${ferry.rssMb <= BOUNDS.rssMb ? 'met' : 'MISSED'}), errors ${ferry.errors} (0: ${ferry.errors === 0 ? 'met' : 'MISSED'})`,
  );
  if (values['cpu-prof'] !== undefined)
    console.log(
      `CPU profiles in ${values['cpu-prof']}: ferry server pid ${ferry.pid}, floor pid ${bare.pid}`,
    );
  console.log(
    `the simulated agents ran on the same ${availableCores()} cores (client CPU above): the server's CPU% is its own CPU time, but it shares the cores with them`,
  );
}

function percentile(sorted, p) {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))];
}

function availableCores() {
  return execFileSync('nproc', { encoding: 'utf8' }).trim();
}
