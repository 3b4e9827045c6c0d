#!/usr/bin/env node
// What a router crash or upgrade costs the clients, side by side with nginx (its master holds the
// listening sockets and respawns workers: the same design as Ferry's keeper):
//   kill -9 of one worker | kill -9 of every worker | kill -9 of the keeper / nginx master |
//   an upgrade (Ferry: handover to a new version's keeper; nginx: `nginx -s reload`)
// under load from 8 keep-alive and 8 new-connection loops. Prints, per case: requests, failed,
// refused, the longest time without any successful response, the slowest request, and when the
// dead process was replaced. Needs nginx (installed with apt-get when run as root).
// Usage: node bench/router-crash.mjs [--seconds 3] [--workers 2]
import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import process from 'node:process';
import { setTimeout as sleep } from 'node:timers/promises';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import {
  ROOT,
  ensureBuilt,
  ensureDebianPackages,
  freePort,
  start,
  tempDir,
  waitForPort,
  writeNginxConfig,
} from './lib.mjs';

const { values } = parseArgs({
  options: { seconds: { type: 'string', default: '3' }, workers: { type: 'string', default: '2' } },
});
const phaseMs = Number(values.seconds) * 1000;
const workers = Number(values.workers);

ensureDebianPackages(['nginx']);
ensureBuilt();
const { RouterClient } = await import(path.join(ROOT, 'dist/router/client.js'));

const dir = tempDir('ferry-bench-router-crash-');
const release = path.join(dir, 'hello');
mkdirSync(release);
execFileSync('tar', ['-xzf', path.join(ROOT, 'examples/hello/dist/hello-1.0.0.tar.gz'), '-C', release]);
const appPorts = [await freePort(), await freePort()];
const apps = appPorts.map((port) =>
  start(process.execPath, ['server.mjs'], { cwd: release, env: { ...process.env, PORT: String(port) } }),
);
for (const port of appPorts) await waitForPort(port);

const results = [];
try {
  results.push(...(await ferryCases()));
  results.push(...(await nginxCases()));
  console.log(
    `\nrouter crash bench: 8 keep-alive + 8 new-connection loops, ${phaseMs} ms before and after each event`,
  );
  console.log(
    'router  event                     requests  failed  refused  longest gap (ms)  slowest (ms)  replaced in (ms)',
  );
  for (const r of results) {
    console.log(
      `${r.router.padEnd(7)} ${r.event.padEnd(25)} ${String(r.requests).padStart(8)}  ${String(r.failed).padStart(6)}  ${String(r.refused).padStart(7)}  ${r.gap.toFixed(0).padStart(16)}  ${r.slowest.toFixed(0).padStart(12)}  ${r.replaced === null ? '-'.padStart(16) : r.replaced.toFixed(0).padStart(16)}`,
    );
  }
} finally {
  for (const app of apps) await app.stop();
}

async function ferryCases() {
  const stateDir = path.join(dir, 'router');
  const port = await freePort();
  const old = oldBuild();
  const { RouterClient: OldClient } = await import(
    pathToFileURL(path.join(old, 'dist/router/client.js')).href
  );
  // Started by an "older" Ferry, so that the last case is a real upgrade.
  const oldClient = new OldClient({ stateDir, workers });
  await oldClient.ensureRunning();
  await oldClient.putRoute(route(port));
  await waitForPort(port);
  const client = new RouterClient({ stateDir, workers });
  const url = `http://127.0.0.1:${port}/`;
  const health = async () => (await client.health()) ?? {};
  const allUp = (h) => h.workers?.length > 0 && h.workers.every((w) => w.state === 'up');
  const cases = [];
  try {
    cases.push(
      await measure('ferry', 'kill -9 one worker', url, async () => {
        const before = await health();
        process.kill(before.workers[0].pid, 'SIGKILL');
        return () =>
          waitUntil(async () => {
            const h = await health();
            return allUp(h) && h.workers[0].pid !== before.workers[0].pid;
          });
      }),
    );
    cases.push(
      await measure('ferry', 'kill -9 every worker', url, async () => {
        const before = await health();
        for (const w of before.workers) process.kill(w.pid, 'SIGKILL');
        return () =>
          waitUntil(async () => {
            const h = await health();
            return allUp(h) && h.workers.every((w, i) => w.pid !== before.workers[i].pid);
          });
      }),
    );
    cases.push(
      await measure('ferry', 'kill -9 keeper', url, async () => {
        const before = await health();
        process.kill(before.pid, 'SIGKILL');
        return () =>
          waitUntil(async () => {
            const h = await health();
            return h.pid !== undefined && h.pid !== before.pid && allUp(h);
          });
      }),
    );
    // The rescued keeper still runs the old build: this is a real upgrade.
    cases.push(
      await measure('ferry', 'upgrade (handover)', url, async () => {
        await client.ensureRunning();
        return () => waitUntil(async () => allUp(await health()));
      }),
    );
  } finally {
    await client.stop();
  }
  return cases;
}

async function nginxCases() {
  const port = await freePort();
  const conf = writeNginxConfig({ dir, workers, port, upstreams: appPorts });
  const nginx = start('nginx', ['-c', conf, '-e', `${dir}/nginx-error.log`]);
  await waitForPort(port);
  const url = `http://127.0.0.1:${port}/`;
  const nginxWorkers = () => childPids(nginx.pid);
  const cases = [];
  try {
    await waitUntil(() => nginxWorkers().length === workers);
    cases.push(
      await measure('nginx', 'kill -9 one worker', url, async () => {
        const before = nginxWorkers();
        process.kill(before[0], 'SIGKILL');
        return () =>
          waitUntil(() => {
            const now = nginxWorkers();
            return now.length === workers && !now.includes(before[0]);
          });
      }),
    );
    cases.push(
      await measure('nginx', 'kill -9 every worker', url, async () => {
        const before = nginxWorkers();
        for (const pid of before) process.kill(pid, 'SIGKILL');
        return () =>
          waitUntil(() => {
            const now = nginxWorkers();
            return now.length === workers && now.every((p) => !before.includes(p));
          });
      }),
    );
    cases.push(
      await measure('nginx', 'reload (nginx -s reload)', url, async () => {
        const before = nginxWorkers();
        execFileSync('nginx', ['-c', conf, '-e', `${dir}/nginx-error.log`, '-s', 'reload']);
        return () =>
          waitUntil(() => {
            const now = nginxWorkers();
            return now.length === workers && now.every((p) => !before.includes(p));
          });
      }),
    );
    cases.push(
      await measure('nginx', 'kill -9 master', url, async () => {
        process.kill(nginx.pid, 'SIGKILL');
        return null;
      }),
    );
  } finally {
    for (const pid of [nginx.pid, ...childPids(nginx.pid)]) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // gone
      }
    }
  }
  return cases;
}

/** Load, then the event, then load again; `event` returns a wait for the replacement (or null). */
async function measure(router, event, url, act) {
  const load = startLoad(url);
  await sleep(phaseMs);
  const at = performance.now();
  const replacedWait = await act();
  const replaced = replacedWait === null ? null : (await replacedWait(), performance.now() - at);
  await sleep(phaseMs);
  const report = await load.stop();
  return { router, event, ...report, replaced };
}

function startLoad(url) {
  const agent = new http.Agent({ keepAlive: true });
  const report = { requests: 0, failed: 0, refused: 0, gap: 0, slowest: 0 };
  let lastSuccess = performance.now();
  let stopping = false;
  const once = (viaAgent) =>
    new Promise((resolve) => {
      const started = performance.now();
      const done = (ok, refused = false) => {
        const now = performance.now();
        report.requests += 1;
        report.slowest = Math.max(report.slowest, now - started);
        if (ok) {
          report.gap = Math.max(report.gap, now - lastSuccess);
          lastSuccess = now;
        } else {
          report.failed += 1;
          if (refused) report.refused += 1;
        }
        resolve();
      };
      const req = http.get(url, { agent: viaAgent ? agent : false }, (res) => {
        res.resume();
        res.on('end', () => done(res.statusCode === 200));
        res.on('error', () => done(false));
      });
      req.on('error', (error) => done(false, error.code === 'ECONNREFUSED'));
    });
  const loops = Promise.all(
    Array.from({ length: 16 }, async (_, i) => {
      while (!stopping) await once(i < 8);
    }),
  );
  return {
    async stop() {
      stopping = true;
      await loops;
      agent.destroy();
      return report;
    },
  };
}

function route(port) {
  return {
    name: 'hello.bench',
    listen: { host: '127.0.0.1', port },
    backends: appPorts.map((p, i) => ({
      id: `i${i}`,
      release: '1.0.0',
      host: '127.0.0.1',
      port: p,
      weight: 1,
      healthy: true,
    })),
  };
}

/** This build under another version number: the router an older Ferry left running. */
function oldBuild() {
  const old = path.join(dir, 'old');
  mkdirSync(old);
  cpSync(path.join(ROOT, 'dist'), path.join(old, 'dist'), { recursive: true });
  writeFileSync(
    path.join(old, 'package.json'),
    JSON.stringify({ name: 'ferry', version: '0.0.0-bench', type: 'module' }),
  );
  symlinkSync(path.join(ROOT, 'node_modules'), path.join(old, 'node_modules'));
  return old;
}

function childPids(parent) {
  try {
    return readFileSync(`/proc/${parent}/task/${parent}/children`, 'utf8')
      .trim()
      .split(/\s+/)
      .filter(Boolean)
      .map(Number);
  } catch {
    return [];
  }
}

async function waitUntil(check, timeoutMs = 60_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('timed out');
    await sleep(5);
  }
}
