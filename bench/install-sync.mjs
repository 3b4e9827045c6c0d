#!/usr/bin/env node
// Measures ferry install's native rsync strategy (dist/install/sync.js), moving changed files in
// from the staging tree as ferry install does and copying them, against the rsync binary
// (`rsync -a --delete`) on a generated tree: a first sync into an empty dest, a no-change resync,
// and a resync after 10% of the files changed and 2% were deleted. Installs rsync with apt-get
// when missing and running as root. Usage: npm run build && node bench/install-sync.mjs [files]
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, unlink, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';

const FILES = Number(process.argv[2] ?? 3000);
const ROUNDS = 5;
const root = new URL('..', import.meta.url).pathname;
const syncModule = join(root, 'dist/install/sync.js');
if (!existsSync(syncModule)) throw new Error('dist/ is missing: run `npm run build` first');
const { syncTree } = await import(syncModule);
const { compileExcludes } = await import(join(root, 'dist/install/excludes.js'));

function ensureRsync() {
  try {
    execFileSync('rsync', ['--version'], { stdio: 'ignore' });
    return;
  } catch {
    if (process.getuid?.() !== 0) throw new Error('rsync is missing: install it (apt-get install -y rsync)');
  }
  const install = () => execFileSync('apt-get', ['install', '-y', 'rsync'], { stdio: 'ignore' });
  try {
    install();
  } catch {
    execFileSync('apt-get', ['update'], { stdio: 'ignore' });
    install();
  }
}

async function makeTree(dir, count) {
  const paths = [];
  for (let i = 0; i < count; i++) {
    const path = join(dir, `d${i % 40}`, `s${i % 7}`, `file-${i}.txt`);
    await mkdir(join(path, '..'), { recursive: true });
    await writeFile(path, 'x'.repeat(200 + ((i * 997) % 8000)));
    paths.push(path);
  }
  return paths;
}

async function mutate(paths, round) {
  const stamp = new Date(Date.now() + (round + 1) * 10_000);
  for (let i = round; i < paths.length; i += 10) {
    await writeFile(paths[i], `changed ${round} ${i}`);
    await utimes(paths[i], stamp, stamp);
  }
}

const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

async function time(fn) {
  const started = performance.now();
  await fn();
  return performance.now() - started;
}

/** A fresh copy of src to sync from (untimed): ferry install consumes its staging tree. */
function stage(src, staged) {
  execFileSync('rm', ['-rf', staged]);
  execFileSync('cp', ['-a', src, staged]);
}

ensureRsync();
const work = await mkdtemp(join(tmpdir(), 'ferry-bench-sync-'));
const TOOLS = ['move', 'copy', 'rsync'];
try {
  const results = Object.fromEntries(TOOLS.map((tool) => [tool, { first: [], unchanged: [], changed: [] }]));
  const none = compileExcludes(['*.pid']);
  for (let round = 0; round < ROUNDS; round++) {
    const src = join(work, `src-${round}`);
    const paths = await makeTree(src, FILES);
    const staged = join(work, 'staged');
    const tools = {
      move: (dest) => syncTree(staged, dest, none, { consumeSource: true }),
      copy: (dest) => syncTree(staged, dest, none),
      rsync: async (dest) => {
        execFileSync('rsync', ['-a', '--delete', '--exclude=*.pid', `${staged}/`, `${dest}/`]);
      },
    };
    const destinations = Object.fromEntries(TOOLS.map((tool) => [tool, join(work, `${tool}-${round}`)]));
    const runAll = async (phase) => {
      for (const tool of TOOLS) {
        stage(src, staged);
        results[tool][phase].push(await time(() => tools[tool](destinations[tool])));
      }
    };
    await runAll('first');
    await runAll('unchanged');
    await mutate(paths, round);
    for (let i = 5; i < paths.length; i += 50) await unlink(paths[i]);
    await runAll('changed');
    execFileSync('diff', ['-r', destinations.move, destinations.rsync]);
    execFileSync('diff', ['-r', destinations.copy, destinations.rsync]);
  }
  console.log(`tree: ${FILES} files in 280 directories, ${ROUNDS} rounds, median ms`);
  console.log(
    "native move: staging on dest's filesystem, changed files renamed in (what ferry install does)",
  );
  console.log('native copy: changed files copied through a temp name');
  console.log('case        move     copy    rsync   move/rsync  copy/rsync');
  for (const phase of ['first', 'unchanged', 'changed']) {
    const [move, copy, rsync] = TOOLS.map((tool) => median(results[tool][phase]));
    console.log(
      `${phase.padEnd(10)} ${move.toFixed(1).padStart(8)} ${copy.toFixed(1).padStart(8)} ${rsync.toFixed(1).padStart(8)}   ${(move / rsync).toFixed(2)}x       ${(copy / rsync).toFixed(2)}x`,
    );
  }
} finally {
  await rm(work, { recursive: true, force: true });
}
