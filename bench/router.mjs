#!/usr/bin/env node
// Router throughput and latency, side by side on the same backend (the hello app):
//   direct to the app | Ferry's router | nginx (upstream keep-alive)
// at equal process counts: one worker each (the comparison of record: same CPU for the proxy), and
// two workers each (Ferry's default `router.workers: 2`; nginx `worker_processes 2`).
// Prints requests/s and p99 for each, and the ratios. Needs wrk and nginx (installed with apt-get
// when run as root).  Usage: node bench/router.mjs [--seconds 10] [--connections 32]
import path from 'node:path';
import process from 'node:process';
import { parseArgs } from 'node:util';
import {
  ROOT,
  ensureBuilt,
  ensureDebianPackages,
  freePort,
  ratio,
  start,
  tempDir,
  waitForPort,
  wrk,
  writeNginxConfig,
} from './lib.mjs';

const { values } = parseArgs({
  options: { seconds: { type: 'string', default: '10' }, connections: { type: 'string', default: '32' } },
});
const seconds = Number(values.seconds);
const connections = Number(values.connections);

ensureDebianPackages(['wrk', 'nginx']);
ensureBuilt();
const { RouterClient } = await import(path.join(ROOT, 'dist/router/client.js'));

const dir = tempDir('ferry-bench-router-');
const release = path.join(dir, 'hello');
const { execFileSync } = await import('node:child_process');
execFileSync('mkdir', ['-p', release]);
execFileSync('tar', ['-xzf', path.join(ROOT, 'examples/hello/dist/hello-1.0.0.tar.gz'), '-C', release]);

const appPort = await freePort();
const app = start(process.execPath, ['server.mjs'], {
  cwd: release,
  env: { ...process.env, PORT: String(appPort) },
});
await waitForPort(appPort);

const results = {};
try {
  results.direct = measure(appPort);
  for (const workers of [1, 2]) {
    results[`ferry, ${workers} worker${workers > 1 ? 's' : ''}`] = await withFerry(workers, measure);
    results[`nginx, ${workers} worker${workers > 1 ? 's' : ''}`] = await withNginx(workers, measure);
  }
} finally {
  await app.stop();
}

console.log(
  `\nrouter bench: wrk -t1 -c${connections} -d${seconds}s, backend = hello (node), same machine (${process.arch}, 2 cores)\n`,
);
console.log('path               requests/s   p99 (ms)   errors');
for (const [name, r] of Object.entries(results)) {
  console.log(
    `${name.padEnd(18)} ${r.rps.toFixed(0).padStart(10)}   ${r.p99.toFixed(2).padStart(8)}   ${r.errors}`,
  );
}
for (const workers of [1, 2]) {
  const suffix = `${workers} worker${workers > 1 ? 's' : ''}`;
  const ferry = results[`ferry, ${suffix}`];
  const ng = results[`nginx, ${suffix}`];
  console.log(
    `\n${suffix}: ferry / nginx requests/s ${ratio(ferry.rps, ng.rps)}x (target >= 0.4x); p99 ${ratio(ferry.p99, ng.p99)}x; ferry / direct ${ratio(ferry.rps, results.direct.rps)}x`,
  );
}

/** Warms a path up briefly, then measures it. */
function measure(port) {
  wrk(`http://127.0.0.1:${port}/`, { seconds: 2, connections });
  return wrk(`http://127.0.0.1:${port}/`, { seconds, connections });
}

async function withFerry(workers, run) {
  const port = await freePort();
  const router = new RouterClient({ stateDir: path.join(dir, `router-${workers}`), workers });
  await router.ensureRunning();
  try {
    await router.putRoute({
      name: 'hello.bench',
      listen: { host: '127.0.0.1', port },
      backends: [
        { id: 'i1', release: '1.0.0', host: '127.0.0.1', port: appPort, weight: 100, healthy: true },
      ],
    });
    await waitForPort(port);
    return run(port);
  } finally {
    await router.stop();
  }
}

async function withNginx(workers, run) {
  const port = await freePort();
  const conf = writeNginxConfig({ dir, name: `nginx-${workers}`, workers, port, upstreams: [appPort] });
  const nginx = start('nginx', ['-c', conf, '-e', `${dir}/nginx-error.log`]);
  await waitForPort(port);
  try {
    return run(port);
  } finally {
    await nginx.stop('SIGQUIT');
  }
}
