#!/usr/bin/env node
// PM2 side by side: the same hello app (2 instances) under the same keep-alive load, N times
// `pm2 reload` in cluster mode against N times `ferry deploy` (blue-green), counting failed
// requests (non-2xx or connection errors) for each. Installs pm2 from npm into a temp dir.
//   Usage: node bench/pm2.mjs [--rounds 5]
import { execFileSync } from 'node:child_process';
import { mkdirSync, rmSync, symlinkSync, writeFileSync, renameSync } from 'node:fs';
import path from 'node:path';
import process from 'node:process';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import {
  ROOT,
  ensureBuilt,
  freePort,
  keepAliveLoad,
  startFerryWithHello,
  tempDir,
  waitForPort,
} from './lib.mjs';

const { values } = parseArgs({ options: { rounds: { type: 'string', default: '5' } } });
const rounds = Number(values.rounds);
ensureBuilt();
const dir = tempDir('ferry-bench-pm2-');
const dist = path.join(dir, 'dist');
execFileSync(process.execPath, [path.join(ROOT, 'examples/hello/build.mjs'), '--out', dist], {
  stdio: 'ignore',
});

// --- PM2, cluster mode, reload between two release dirs behind a `current` symlink -----------------
console.log('installing pm2 from npm...');
execFileSync(
  'npm',
  ['install', '--prefix', path.join(dir, 'pm2'), 'pm2@latest', '--no-audit', '--no-fund', '--silent'],
  { stdio: 'inherit' },
);
const pm2 = path.join(dir, 'pm2/node_modules/.bin/pm2');
const pm2Env = { ...process.env, PM2_HOME: path.join(dir, 'pm2-home') };
for (const version of ['1.0.0', '1.1.0']) {
  mkdirSync(path.join(dir, 'releases', version), { recursive: true });
  execFileSync('tar', [
    '-xzf',
    path.join(dist, `hello-${version}.tar.gz`),
    '-C',
    path.join(dir, 'releases', version),
  ]);
}
const current = path.join(dir, 'current');
const point = (version) => {
  symlinkSync(path.join(dir, 'releases', version), `${current}.tmp`);
  renameSync(`${current}.tmp`, current);
};
point('1.0.0');
const pm2Port = await freePort();
writeFileSync(
  path.join(dir, 'ecosystem.config.cjs'),
  `module.exports = { apps: [{ name: 'hello', cwd: ${JSON.stringify(current)}, script: 'server.mjs', exec_mode: 'cluster', instances: 2,
  kill_signal: 'SIGTERM', env: { PORT: '${pm2Port}' } }] };`,
);
execFileSync(pm2, ['start', path.join(dir, 'ecosystem.config.cjs')], { env: pm2Env, stdio: 'ignore' });
await waitForPort(pm2Port);
const pm2Load = await keepAliveLoad(`http://127.0.0.1:${pm2Port}/`);
const pm2Started = Date.now();
await sleep(1000);
for (let i = 0; i < rounds; i++) {
  point(i % 2 === 0 ? '1.1.0' : '1.0.0');
  execFileSync(pm2, ['reload', 'hello'], { env: pm2Env, stdio: 'ignore' });
  await sleep(500);
}
const pm2Report = await pm2Load.stop();
pm2Report.ms = Date.now() - pm2Started;
execFileSync(pm2, ['kill'], { env: pm2Env, stdio: 'ignore' });

// --- Ferry, blue-green ------------------------------------------------------------------------------
const ferryUp = await startFerryWithHello(dir);
const { appPort } = ferryUp;
const ferryLoad = await keepAliveLoad(`http://127.0.0.1:${appPort}/`);
const ferryStarted = Date.now();
await sleep(1000);
for (let i = 0; i < rounds; i++) {
  ferryUp.cli('deploy', 'hello', i % 2 === 0 ? '1.1.0' : '1.0.0', '--wait');
}
const ferryReport = await ferryLoad.stop();
ferryReport.ms = Date.now() - ferryStarted;
ferryUp.stop();
rmSync(dir, { recursive: true, force: true });

console.log(
  `\n${rounds} zero-downtime reloads of hello (2 instances) under keep-alive load (8 connections)\n`,
);
console.log('tool                         requests   req/s   failed');
for (const [name, r] of [
  ['pm2 reload (cluster mode)', pm2Report],
  ['ferry deploy (blue-green)', ferryReport],
]) {
  const rate = Math.round((r.requests * 1000) / r.ms);
  console.log(
    `${name}  ${String(r.requests).padStart(10)}  ${String(rate).padStart(6)}   ${r.failures}  ${r.samples.slice(0, 3).join('; ')}`,
  );
}
