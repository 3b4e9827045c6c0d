#!/usr/bin/env node
// Installing a release over local HTTP, side by side on the same archive and server: the floor
// (`curl | tar xz`), a stretcher-style pipeline (curl to a temp file, sha256sum, tar xz into a
// staging dir, rsync -a --delete into place) and Ferry's installRelease (a first pass that fetches,
// hashes and scans the archive's headers, keeping the download in the cache; a second that reads it
// again and unpacks it once verified;
// in a child process so its peak RSS is its own): a first install with an empty
// download cache, a second into a fresh releases dir served by the warm cache, and a second into
// the same releases dir (already installed). Prints the median of each run over the rounds, peak
// RSS, and the ratios the Artifacts issue targets. The release (--size of a few large incompressible
// files and ~5,000 small js-like files, as tar.gz) and every output live in a temp dir under
// os.tmpdir(), and outputs are only deleted once every run is done. Installs curl and rsync with
// apt-get when missing and running as root.
// Usage: npm run build && node bench/install.mjs [--size 1GiB] [--rounds 3]
import { execFileSync, spawn } from 'node:child_process';
import { createReadStream, existsSync, readFileSync, statSync } from 'node:fs';
import { mkdir, rm, statfs } from 'node:fs/promises';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import process from 'node:process';
import { parseArgs } from 'node:util';
import { ROOT, ensureDebianPackages, median, ratio, tempDir } from './lib.mjs';
import { measure } from './process-stats.mjs';
import { buildRelease, mb } from './release-tree.mjs';

const MiB = 1024 ** 2;
const { values } = parseArgs({
  options: {
    size: { type: 'string', default: '1GiB' },
    rounds: { type: 'string', default: '3' },
    // Internal: the same script serves the archive, and runs one Ferry install, in a child process.
    serve: { type: 'string' },
    ferry: { type: 'string' },
  },
});

if (values.serve !== undefined) serve(values.serve);
else if (values.ferry !== undefined) await installWithFerry(JSON.parse(values.ferry));
else await main();

async function main() {
  const size = parseSize(values.size);
  const rounds = Number(values.rounds);
  if (!Number.isInteger(rounds) || rounds < 1)
    throw new Error(`--rounds: expected a count, got ${values.rounds}`);
  const indexJs = path.join(ROOT, 'dist/artifacts/index.js');
  if (!existsSync(indexJs)) throw new Error('dist/ is missing: run `npm run build` first');
  ensureDebianPackages(['curl', 'rsync']);

  const work = tempDir('ferry-bench-install-');
  const fs = await statfs(work);
  const free = fs.bavail * fs.bsize;
  // The tree and its archive, then per round 4 unpacked copies, a staging copy and 2 archives.
  const needed = 3 * size + rounds * 7 * size;
  console.log(machineNotes(work, fs.type, free));
  if (free < needed) {
    await rm(work, { recursive: true, force: true });
    throw new Error(`${work}: needs about ${mb(needed)} MB free, has ${mb(free)} MB`);
  }
  let server;
  try {
    const release = await buildRelease(work, size);
    server = await startServer(release.archive);
    const url = `http://127.0.0.1:${server.port}/release.tar.gz`;
    const runs = { floor: [], stretcher: [], first: [], cacheHit: [], installed: [] };
    const cleanUps = [];
    for (let round = 0; round < rounds; round++) {
      const dir = path.join(work, `round-${round}`);
      await mkdir(dir);
      const ferry = (releasesDir) => ({
        releasesDir: path.join(dir, releasesDir),
        version: '1.0.0',
        url,
        checksum: `sha256:${release.sha256}`,
        cacheDir: path.join(dir, 'cache'),
        maxBytes: 2 * size,
      });
      const groups = [
        async () => runs.floor.push(await timed(() => floor(url, path.join(dir, 'floor')))),
        async () => {
          const result = await timed(() => stretcher(url, release.sha256, dir));
          runs.stretcher.push(result);
          cleanUps.push(result);
        },
        async () => {
          runs.first.push(await timed(() => runFerry(ferry('releases-a'))));
          runs.cacheHit.push(await timed(() => runFerry(ferry('releases-b'))));
          runs.installed.push(await timed(() => runFerry(ferry('releases-a'))));
        },
      ];
      // A different one goes first each round, so none always meets the freshest page cache.
      for (let i = 0; i < groups.length; i++) await groups[(i + round) % groups.length]();
      if (round === 0) {
        const same = (dest) => (identical(release.tree, path.join(dir, dest)) ? 'identical' : 'DIFFERENT');
        console.log(
          `round 1 outputs vs the source tree: floor ${same('floor')}, stretcher ${same('stretcher')}, ` +
            `ferry ${same('releases-a/1.0.0')}, ferry from cache ${same('releases-b/1.0.0')}`,
        );
      }
      console.log(`round ${round + 1}/${rounds} done`);
    }
    // Timed, but after every round: files created within a minute after thousands were deleted
    // are much slower to create on a journal-less ext4, which would penalise whatever ran next.
    for (const result of cleanUps) await result.cleanUp();
    report(release, runs, rounds);
  } finally {
    await server?.stop();
    await rm(work, { recursive: true, force: true });
  }
}

/** Runs fn after flushing earlier runs' dirty pages, so no run pays for another's writeback. */
async function timed(fn) {
  execFileSync('sync');
  return fn();
}

/** curl | tar xz: no checksum, no staging, nothing kept. */
async function floor(url, dest) {
  await mkdir(dest);
  return measure('sh', ['-c', `curl -sSf '${url}' | tar xzf - -C '${dest}'`]);
}

/** curl to a temp file, sha256sum, tar xz into a staging dir, rsync -a --delete into place, rm. */
async function stretcher(url, sha256, dir) {
  const temp = path.join(dir, 'download.tar.gz');
  const staging = path.join(dir, 'staging');
  const dest = path.join(dir, 'stretcher');
  await mkdir(staging);
  await mkdir(dest);
  const steps = {
    curl: await measure('curl', ['-sSf', '-o', temp, url]),
    sha256sum: await measure('sha256sum', [temp]),
  };
  if (!steps.sha256sum.stdout.startsWith(sha256)) console.log('stretcher-style: checksum MISMATCH');
  steps.tar = await measure('tar', ['xzf', temp, '-C', staging]);
  steps.rsync = await measure('rsync', ['-a', '--delete', `${staging}/`, `${dest}/`]);
  const result = { steps: {} };
  const total = () => {
    const all = Object.values(steps);
    result.seconds = all.reduce((sum, step) => sum + step.seconds, 0);
    result.cpuSeconds = all.reduce((sum, step) => sum + step.cpuSeconds, 0);
    // The steps run one after another: the pipeline's peak is its largest step's.
    result.peakMb = Math.max(...all.map((step) => step.peakMb));
    for (const [name, step] of Object.entries(steps)) result.steps[name] = step.seconds;
  };
  result.cleanUp = async () => {
    steps.rm = await measure('rm', ['-rf', temp, staging]);
    total();
  };
  total();
  return result;
}

async function runFerry(job) {
  const run = await measure(process.execPath, [import.meta.filename, '--ferry', JSON.stringify(job)]);
  const { installed, hwmKb, importMs } = JSON.parse(run.stdout);
  return {
    seconds: run.seconds,
    cpuSeconds: run.cpuSeconds,
    // Exact: the child's own high-water mark, read just before it exits.
    peakMb: hwmKb / 1024,
    reused: installed.reused,
    installMs: installed.timings.totalMs,
    fetchMs: installed.timings.fetchMs,
    importMs,
  };
}

/** The child side of runFerry: one installRelease, then its result and VmHWM as JSON. */
async function installWithFerry(job) {
  const importStarted = performance.now();
  const { installRelease } = await import(path.join(ROOT, 'dist/artifacts/index.js'));
  const importMs = performance.now() - importStarted;
  const installed = await installRelease({
    releasesDir: job.releasesDir,
    version: job.version,
    source: { url: job.url, checksum: job.checksum },
    cacheDir: job.cacheDir,
    cacheMaxBytes: job.maxBytes,
    limits: { maxBytes: job.maxBytes },
  });
  const hwmKb = Number(/VmHWM:\s+(\d+)/.exec(readFileSync('/proc/self/status', 'utf8'))[1]);
  process.stdout.write(JSON.stringify({ installed, hwmKb, importMs }));
}

/** Whether dest holds the same tree as src (diff -r: names, types and contents). */
function identical(src, dest) {
  try {
    execFileSync('diff', ['-rq', src, dest, '-x', '.ferry-release.json'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** A plain static server for the archive in a child process: Content-Length, Accept-Ranges, Range. */
async function startServer(archive) {
  const child = spawn(process.execPath, [import.meta.filename, '--serve', archive], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const port = await new Promise((resolve, reject) => {
    child.stdout.once('data', (chunk) => resolve(Number(String(chunk).trim())));
    child.once('exit', (code) => reject(new Error(`the archive server exited with ${code}`)));
  });
  return {
    port,
    stop: async () => {
      if (child.exitCode !== null) return;
      const gone = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await gone;
    },
  };
}

function serve(file) {
  const { size } = statSync(file);
  const server = http.createServer((req, res) => {
    if (req.url !== '/release.tar.gz') return res.writeHead(404).end();
    const range = /^bytes=(\d+)-(\d*)$/.exec(req.headers.range ?? '');
    const start = range ? Number(range[1]) : 0;
    const end = range && range[2] !== '' ? Number(range[2]) : size - 1;
    const headers = {
      'content-type': 'application/gzip',
      'content-length': end - start + 1,
      'accept-ranges': 'bytes',
    };
    if (range) headers['content-range'] = `bytes ${start}-${end}/${size}`;
    res.writeHead(range ? 206 : 200, headers);
    createReadStream(file, { start, end, highWaterMark: MiB }).pipe(res);
  });
  server.listen(0, '127.0.0.1', () => process.stdout.write(`${server.address().port}\n`));
  process.on('SIGTERM', () => server.close(() => process.exit(0)));
}

function report(release, runs, rounds) {
  const m = (results, key) => median(results.map((r) => r[key]));
  console.log(
    `\ninstall of a ${mb(release.treeBytes)} MB release (${release.files} files, archive ${mb(release.archiveBytes)} MB) ` +
      `over local HTTP, median of ${rounds} rounds\n`,
  );
  console.log(
    `${'run'.padEnd(44)} ${'wall s'.padStart(7)} ${'MB/s'.padStart(6)} ${'CPU s'.padStart(6)} ${'peak RSS MB'.padStart(12)}`,
  );
  for (const [label, results] of [
    ['floor: curl | tar xz', runs.floor],
    ['stretcher-style: curl, sha256sum, tar, rsync', runs.stretcher],
    ['ferry: first install (empty cache)', runs.first],
    ['ferry: 2nd, fresh releases dir, warm cache', runs.cacheHit],
    ['ferry: 2nd, same releases dir (reused)', runs.installed],
  ]) {
    const seconds = m(results, 'seconds');
    console.log(
      `${label.padEnd(44)} ${seconds.toFixed(2).padStart(7)} ${(mb(release.archiveBytes) / seconds).toFixed(0).padStart(6)} ` +
        `${m(results, 'cpuSeconds').toFixed(1).padStart(6)} ${m(results, 'peakMb').toFixed(0).padStart(12)}`,
    );
  }
  console.log(
    '(MB/s: archive MB / wall s. CPU s: user + system of the process tree; the archive server, another\n' +
      'process, is not counted. Peak RSS: VmHWM, summed over the processes of a pipeline.)',
  );

  const stepNames = Object.keys(runs.stretcher[0].steps);
  console.log(
    `\nstretcher-style steps, median s: ${stepNames
      .map((name) => `${name} ${median(runs.stretcher.map((r) => r.steps[name])).toFixed(2)}`)
      .join(', ')}`,
  );
  console.log(
    'ferry, median ms:                          process   import   installRelease   of it 1st pass',
  );
  for (const [label, results] of [
    ['first install', runs.first],
    ['2nd, fresh releases dir, warm cache', runs.cacheHit],
    ['2nd, same releases dir', runs.installed],
  ]) {
    console.log(
      `  ${label.padEnd(40)} ${(m(results, 'seconds') * 1000).toFixed(0).padStart(7)} ${m(results, 'importMs').toFixed(0).padStart(8)} ` +
        `${m(results, 'installMs').toFixed(0).padStart(16)} ${m(results, 'fetchMs').toFixed(0).padStart(17)}   reused: ${results.every((r) => r.reused)}`,
    );
  }
  console.log(
    '  (process: spawn to exit; 1st pass: fetch (or read the cache) + sha256 + gunzip + header scan,\n' +
      '  the download kept in the cache; the rest of installRelease: checksum lookup, reading the kept\n' +
      '  archive again, gunzip, unpacking with an fsync of every file, release record, rename)',
  );

  const ratios = (a, b) => {
    const perRound = a.map((r, i) => r.seconds / b[i].seconds);
    return [ratio(m(a, 'seconds'), m(b, 'seconds')), perRound.map((x) => x.toFixed(2)).join(' ')];
  };
  console.log(`\n${'target'.padEnd(44)} ${'got'.padStart(6)}   ${'want'.padEnd(7)} per round`);
  const line = (label, [got, perRound], want) =>
    console.log(`${label.padEnd(44)} ${got.padStart(6)}   ${want.padEnd(7)} ${perRound}`);
  line('ferry first / floor', ratios(runs.first, runs.floor), '<= 1.2');
  line('ferry first / stretcher-style', ratios(runs.first, runs.stretcher), '<= 0.6');
  line(
    'ferry first, peak RSS MB',
    [m(runs.first, 'peakMb').toFixed(0), runs.first.map((r) => r.peakMb.toFixed(0)).join(' ')],
    '<= 150',
  );
  line('ferry 2nd, fresh releases dir / first', ratios(runs.cacheHit, runs.first), '<= 0.1');
  line('ferry 2nd, same releases dir / first', ratios(runs.installed, runs.first), '<= 0.1');
  console.log(
    `\nload average at the end: ${os
      .loadavg()
      .map((x) => x.toFixed(2))
      .join(' ')}`,
  );
}

function machineNotes(dir, fsType, free) {
  const types = {
    0x01021994: 'tmpfs',
    0xef53: 'ext4',
    0x58465342: 'xfs',
    0x9123683e: 'btrfs',
    0x794c7630: 'overlayfs',
  };
  const version = (command) => execFileSync(command, ['--version'], { encoding: 'utf8' }).split('\n')[0];
  return [
    `machine: ${os.cpus().length} x ${os.cpus()[0]?.model ?? '?'}, ${mb(os.totalmem())} MB RAM, Linux ${os.release()}, Node ${process.version}, ` +
      `load average ${loadAverage()}`,
    `work dir: ${dir} on ${types[fsType] ?? `fs type 0x${fsType.toString(16)}`} ` +
      `(${fsType === 0x01021994 ? 'in RAM' : 'on disk'}), ${mb(free)} MB free`,
    `tools: ${version('curl').split(' ').slice(0, 2).join(' ')}, ${version('tar')}, ${version('gzip')}, ${version('rsync').replace(/\s+/g, ' ')}`,
  ].join('\n');
}

function loadAverage() {
  return os
    .loadavg()
    .map((x) => x.toFixed(2))
    .join(' ');
}

function parseSize(text) {
  const match = /^(\d+(?:\.\d+)?)\s*(|B|KiB|MiB|GiB)$/i.exec(text.trim());
  if (!match)
    throw new Error(`--size: expected bytes or a size like 512MiB or 1GiB, got ${JSON.stringify(text)}`);
  const unit = { '': 1, b: 1, kib: 1024, mib: MiB, gib: 1024 ** 3 }[match[2].toLowerCase()];
  return Math.round(Number(match[1]) * unit);
}
