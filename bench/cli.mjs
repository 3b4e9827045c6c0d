#!/usr/bin/env node
// CLI start-up, side by side with a bare `node -e 0`: each round runs every command once, in an
// order that rotates from round to round, so that the machine's load falls on all of them alike.
// A real daemon (hello, one instance) runs from a temp directory: data_dir and api.listen (a free
// loopback port) in its ferry.yaml. Prints median and spread (10th-90th percentile) of the wall
// time per command, and its ratio to `node -e 0`: of the medians, and the median of the per-round
// ratios (paired). The commands run as users run them: bin/ferry.js, its shebang included.
//   Usage: node bench/cli.mjs [--rounds 30]
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import process from 'node:process';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { ROOT, ensureBuilt, freePort, median, start, tempDir } from './lib.mjs';

const { values } = parseArgs({ options: { rounds: { type: 'string', default: '30' } } });
const rounds = Number(values.rounds);
const WARMUP = 3;

ensureBuilt();
const dir = tempDir('ferry-bench-cli-');
execFileSync(
  process.execPath,
  [path.join(ROOT, 'examples/hello/build.mjs'), '--out', path.join(dir, 'dist')],
  {
    stdio: 'ignore',
  },
);
const apiPort = await freePort();
const appPort = await freePort();
writeFileSync(
  path.join(dir, 'ferry.yaml'),
  `data_dir: ./home
api: { listen: "127.0.0.1:${apiPort}" }
apps:
  hello:
    artifact: { url: "dist/hello-{version}.tar.gz", checksums: dist/SHA256SUMS }
    initial_release: 1.0.0
    run: { command: node, args: [server.mjs] }
    instances: 1
    listen: "127.0.0.1:${appPort}"
    health: { http: { path: /healthz }, interval: 200ms, healthy_threshold: 2 }
`,
);
const home = path.join(dir, 'home');
const bin = path.join(ROOT, 'bin/ferry.js');
// The CLI's environment decides which daemon it asks: none of the caller's.
const { FERRY_HOME: _home, FERRY_URL: _url, FERRY_TOKEN: _token, ...env } = process.env;
const daemon = start(bin, ['up'], { cwd: dir, env, stdio: ['ignore', 'pipe', 'inherit'] });
let output = '';
daemon.stdout.on('data', (chunk) => (output += chunk));
while (!output.includes('Ferry is up')) {
  if (daemon.exitCode !== null) throw new Error(`ferry up exited: ${output}`);
  await sleep(50);
}

// A directory without a ferry.yaml: there the daemon is found from FERRY_HOME.
const elsewhere = path.join(dir, 'elsewhere');
mkdirSync(elsewhere);
const commands = [
  { label: 'node -e 0', file: process.execPath, args: ['-e', '0'], cwd: elsewhere, env },
  { label: 'ferry --version', file: bin, args: ['--version'], cwd: elsewhere, env },
  {
    label: 'ferry status (FERRY_HOME)',
    file: bin,
    args: ['status'],
    cwd: elsewhere,
    env: { ...env, FERRY_HOME: home },
  },
  {
    label: 'ferry status --json (FERRY_HOME)',
    file: bin,
    args: ['status', '--json'],
    cwd: elsewhere,
    env: { ...env, FERRY_HOME: home },
  },
  { label: 'ferry status (./ferry.yaml)', file: bin, args: ['status'], cwd: dir, env },
];

try {
  const times = commands.map(() => []);
  for (let round = 0; round < WARMUP + rounds; round++) {
    for (let k = 0; k < commands.length; k++) {
      const i = (round + k) % commands.length;
      const { file, args, cwd, env: commandEnv, label } = commands[i];
      const began = performance.now();
      const result = spawnSync(file, args, { cwd, env: commandEnv, stdio: ['ignore', 'ignore', 'pipe'] });
      const ms = performance.now() - began;
      if (result.status !== 0) throw new Error(`${label} exited ${result.status}: ${result.stderr}`);
      if (round >= WARMUP) times[i].push(ms);
    }
  }
  const base = times[0];
  console.log(`\nCLI start-up against a running daemon, ${rounds} interleaved rounds (wall time, ms)\n`);
  console.log(
    `${'command'.padEnd(34)} ${'median'.padStart(7)} ${'p10-p90'.padStart(13)} ${'x node'.padStart(7)} ${'paired'.padStart(7)}`,
  );
  commands.forEach(({ label }, i) => {
    const own = times[i];
    const spread = `${percentile(own, 0.1).toFixed(0)}-${percentile(own, 0.9).toFixed(0)}`;
    const paired = median(own.map((t, round) => t / base[round]));
    console.log(
      `${label.padEnd(34)} ${median(own).toFixed(1).padStart(7)} ${spread.padStart(13)} ${(median(own) / median(base)).toFixed(2).padStart(7)} ${paired.toFixed(2).padStart(7)}`,
    );
  });
  console.log(
    '\nx node: median / median of node -e 0; paired: median of the per-round ratios (target <= 1.5 for status)',
  );
} finally {
  await daemon.stop();
  execFileSync(bin, ['down'], { cwd: dir, env, stdio: 'ignore' });
}

function percentile(values, p) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))];
}
