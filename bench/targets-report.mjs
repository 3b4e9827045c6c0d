#!/usr/bin/env node
// One report call of the external targets API (POST /v1/targets/:namespace/:entity/report) for
// 100, 1,000 and 10,000 targets in the middle of a rollout (batches of 5%, a batch in flight):
// the median wall time of the call over loopback HTTP (the API server, zod, the runtime's step and
// its compare-and-swap write to a SQLite key-value file with WAL and synchronous=FULL), and of the
// same step called in-process (without HTTP and the request's validation). No peer: nixmade's
// Orchestrate has no figures to compare with; the goal is a call well under a client's report
// interval (seconds).
//   Usage: npm run build && node bench/targets-report.mjs [--rounds 21]
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { ROOT, median } from './lib.mjs';

const { values } = parseArgs({ options: { rounds: { type: 'string', default: '21' } } });
const rounds = Number(values.rounds);

const load = async (file) => {
  const entry = path.join(ROOT, 'dist', file);
  if (!existsSync(entry)) throw new Error(`dist/${file} is missing: run \`npm run build\` first`);
  return import(pathToFileURL(entry).href);
};
const { createApiServer } = await load('api/server.js');
const { startExternalTargets } = await load('server/targets/external-targets.js');
const { openSqliteKvStore } = await load('store/kv/sqlite-kv.js');
const { silentLogger } = await load('lib/logger.js');

const TOKEN = 'bench-token';
const SIZES = [100, 1_000, 10_000];
const dir = mkdtempSync(path.join(os.tmpdir(), 'ferry-bench-targets-'));

async function measure(size) {
  const kv = await openSqliteKvStore(path.join(dir, `kv-${size}.db`));
  const targets = await startExternalTargets({ kv, logger: silentLogger() });
  const api = createApiServer({ control: { targets }, token: TOKEN, logger: silentLogger() });
  await api.listen({ host: '127.0.0.1', port: 0 });
  const base = `http://127.0.0.1:${api.server.address().port}/v1/targets/bench/web-${size}`;
  const running = new Map(
    Array.from({ length: size }, (_, i) => [`host-${String(i).padStart(5, '0')}`, 'v1']),
  );
  const body = () => ({ targets: [...running].map(([name, version]) => ({ name, version })) });
  const post = async (url, payload) => {
    const response = await fetch(url, {
      method: 'POST',
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify(payload),
    });
    const answer = await response.json();
    if (!response.ok) throw new Error(JSON.stringify(answer));
    return answer;
  };
  const report = async () => {
    const answer = await post(`${base}/report`, body());
    for (const { name, version } of answer.targets) if (version !== null) running.set(name, version);
    return answer;
  };
  await report();
  await post(`${base}/deploy`, { version: 'v1', options: { batch: '100%', soakMs: 0 } });
  await report();
  await report();
  await post(`${base}/deploy`, { version: 'v2', options: { batch: '5%', soakMs: '1h' } });
  const http = [];
  for (let i = 0; i < rounds; i++) {
    const started = performance.now();
    await report();
    http.push(performance.now() - started);
  }
  const inProcess = [];
  for (let i = 0; i < rounds; i++) {
    const started = performance.now();
    await targets.report('bench', `web-${size}`, body());
    inProcess.push(performance.now() - started);
  }
  const bytes = (await kv.get(`/rollouts/targets/bench/web-${size}`)).value.length;
  await api.close();
  await targets.close();
  await kv.close();
  return { size, http: median(http), inProcess: median(inProcess), bytes };
}

try {
  console.log(`report call, median of ${rounds} (ms); load average ${os.loadavg()[0].toFixed(1)}`);
  console.log('targets   over HTTP   in-process   record (JSON)');
  for (const size of SIZES) {
    const r = await measure(size);
    console.log(
      `${String(r.size).padStart(7)}   ${r.http.toFixed(1).padStart(9)}   ${r.inProcess.toFixed(1).padStart(10)}   ${(r.bytes / 1024).toFixed(0).padStart(8)} KiB`,
    );
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
