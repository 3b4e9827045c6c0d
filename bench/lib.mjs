// Shared helpers of the bench scripts: installing peers, free ports, wrk runs, child processes.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import process from 'node:process';
import { setTimeout as sleep } from 'node:timers/promises';

export const ROOT = path.resolve(import.meta.dirname, '..');

/** Makes sure Debian packages are installed (as root, with apt-get); fails with a clear message otherwise. */
export function ensureDebianPackages(packages, binaries = packages) {
  const missing = packages.filter((_, i) => !hasCommand(binaries[i]));
  if (missing.length === 0) return;
  if (process.getuid?.() !== 0)
    throw new Error(`missing ${missing.join(', ')}: install them (apt-get install ${missing.join(' ')})`);
  execFileSync('apt-get', ['update', '-qq'], { stdio: 'inherit' });
  execFileSync('apt-get', ['install', '-y', '-qq', ...missing], {
    stdio: 'inherit',
    env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
  });
}

export function hasCommand(name) {
  return spawnSync('sh', ['-c', `command -v ${name}`]).status === 0 || existsSync(`/usr/sbin/${name}`);
}

export function ensureBuilt() {
  if (!existsSync(path.join(ROOT, 'dist/cli-bundle/main.js')))
    execFileSync('npm', ['run', 'build'], { cwd: ROOT, stdio: 'inherit' });
  execFileSync(process.execPath, [path.join(ROOT, 'examples/hello/build.mjs')], {
    cwd: ROOT,
    stdio: 'ignore',
  });
}

export function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
    server.on('error', reject);
  });
}

export function tempDir(prefix) {
  return mkdtempSync(path.join(os.tmpdir(), prefix));
}

/** Waits until a TCP port accepts connections. */
export async function waitForPort(port, timeoutMs = 15_000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const ok = await new Promise((resolve) => {
      const socket = net.connect(port, '127.0.0.1');
      socket.once('connect', () => (socket.destroy(), resolve(true)));
      socket.once('error', () => resolve(false));
    });
    if (ok) return;
    await sleep(50);
  }
  throw new Error(`port ${port} did not open within ${timeoutMs}ms`);
}

/** Runs wrk and returns requests/s, p99 latency (ms) and errors (non-2xx + socket errors). */
export function wrk(url, { seconds = 10, connections = 32, threads = 1 } = {}) {
  const out = execFileSync(
    'wrk',
    ['-t', String(threads), '-c', String(connections), '-d', `${seconds}s`, '--latency', url],
    { encoding: 'utf8' },
  );
  const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1] ?? NaN);
  const p99 = parseLatency(/\s99%\s+([\d.]+\w+)/.exec(out)?.[1]);
  const non2xx = Number(/Non-2xx or 3xx responses:\s+(\d+)/.exec(out)?.[1] ?? 0);
  const socketErrors = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out);
  const errors = non2xx + (socketErrors ? socketErrors.slice(1).reduce((a, b) => a + Number(b), 0) : 0);
  return { rps, p99, errors };
}

function parseLatency(text) {
  if (!text) return NaN;
  const match = /([\d.]+)(us|ms|s)/.exec(text);
  const factor = { us: 0.001, ms: 1, s: 1000 }[match[2]];
  return Number(match[1]) * factor;
}

/** Starts a child process; returns it with a kill helper that waits for the exit. */
export function start(command, args, opts = {}) {
  const child = spawn(command, args, { stdio: opts.stdio ?? 'ignore', ...opts });
  child.stop = async (signal = 'SIGTERM') => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const gone = new Promise((resolve) => child.once('exit', resolve));
    child.kill(signal);
    await gone;
  };
  return child;
}

/** User and system CPU seconds of a process so far, from /proc/<pid>/stat (clock ticks of 1/100 s). */
export function cpuTimes(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return { user: Number(fields[11]) / 100, system: Number(fields[12]) / 100 };
}

export function cpuSeconds(pid) {
  const { user, system } = cpuTimes(pid);
  return user + system;
}

/** A memory figure of a process in MB, from /proc/<pid>/status: VmRSS (now) or VmHWM (peak). */
export function memoryMb(pid, field = 'VmRSS') {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(new RegExp(`${field}:\\s+(\\d+)`).exec(status)?.[1] ?? NaN) / 1024;
}

/** A process's private memory in MB (USS: Private_Clean + Private_Dirty of /proc/<pid>/smaps_rollup). */
export function privateMb(pid) {
  const rollup = readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
  const kb = (field) => Number(new RegExp(`^${field}:\\s+(\\d+)`, 'm').exec(rollup)?.[1] ?? NaN);
  return (kb('Private_Clean') + kb('Private_Dirty')) / 1024;
}

export function ratio(a, b) {
  return (a / b).toFixed(2);
}

export function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

/** Keep-alive HTTP load until stop(); counts failures (non-2xx or connection errors). */
export async function keepAliveLoad(url, connections = 8) {
  const http = await import('node:http');
  const agent = new http.Agent({ keepAlive: true, maxSockets: connections });
  const report = { requests: 0, failures: 0, samples: [] };
  let stopping = false;
  const once = () =>
    new Promise((resolve) => {
      const fail = (what) => {
        report.failures++;
        if (report.samples.length < 5) report.samples.push(what);
        resolve();
      };
      const req = http.get(url, { agent }, (res) => {
        res.resume();
        res.on('end', () => {
          report.requests++;
          if (res.statusCode < 200 || res.statusCode >= 300) fail(`HTTP ${res.statusCode}`);
          else resolve();
        });
        res.on('error', (e) => fail(e.message));
      });
      req.on('error', (e) => {
        report.requests++;
        fail(e.message);
      });
    });
  const workers = Promise.all(
    Array.from({ length: connections }, async () => {
      while (!stopping) await once();
    }),
  );
  return {
    report,
    async stop() {
      stopping = true;
      await workers;
      agent.destroy();
      return report;
    },
  };
}

/**
 * Starts `ferry up` with hello (2 instances, health every 200 ms, 2 healthy checks) in `dir`
 * (releases already built into dir/dist). `appYaml` (indented 4) adds to the app's settings,
 * `topYaml` to the top of the file. Returns ports, env, the daemon, and helpers.
 */
export async function startFerryWithHello(dir, { appYaml = '', topYaml = '' } = {}) {
  const { spawn, execFileSync } = await import('node:child_process');
  const { writeFileSync } = await import('node:fs');
  const apiPort = await freePort();
  const appPort = await freePort();
  writeFileSync(
    path.join(dir, 'ferry.yaml'),
    `api: { listen: "127.0.0.1:${apiPort}" }
apps:
  hello:
    artifact: { url: "dist/hello-{version}.tar.gz", checksums: dist/SHA256SUMS }
    initial_release: 1.0.0
    run: { command: node, args: [server.mjs] }
    instances: 2
    listen: "127.0.0.1:${appPort}"
    health: { http: { path: /healthz }, interval: 200ms, healthy_threshold: 2 }
    stop: { grace: 5s }
${appYaml}${topYaml}`,
  );
  const home = path.join(dir, 'home');
  const env = { ...process.env, FERRY_HOME: home };
  const bin = path.join(ROOT, 'bin/ferry.js');
  // Started as the `ferry` command itself, so its runtime flags (see bin/ferry.js) apply.
  const daemon = spawn(bin, ['up', '--config', path.join(dir, 'ferry.yaml')], {
    env,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let output = '';
  daemon.stdout.on('data', (c) => (output += c));
  while (!output.includes('Ferry is up')) {
    if (daemon.exitCode !== null) throw new Error(`ferry up exited: ${output}`);
    await sleep(50);
  }
  return {
    apiPort,
    appPort,
    home,
    env,
    bin,
    daemon,
    cli: (...args) => execFileSync(bin, args, { env, encoding: 'utf8' }),
    stop: () => {
      daemon.kill('SIGTERM');
      execFileSync(bin, ['down'], { env, stdio: 'ignore' });
    },
  };
}

/**
 * Writes an nginx configuration proxying 127.0.0.1:port to the upstream ports (keep-alive), with
 * its files in dir; returns its path. Start it with `nginx -c <path> -e <dir>/nginx-error.log`.
 */
export function writeNginxConfig({ dir, name = 'nginx', workers, port, upstreams }) {
  const conf = path.join(dir, `${name}.conf`);
  const servers = upstreams.map((p) => `server 127.0.0.1:${p};`).join(' ');
  writeFileSync(
    conf,
    `worker_processes ${workers};
daemon off;
pid ${dir}/${name}.pid;
error_log ${dir}/nginx-error.log;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path ${dir}/nginx-body; proxy_temp_path ${dir}/nginx-proxy;
  fastcgi_temp_path ${dir}/nginx-fcgi; uwsgi_temp_path ${dir}/nginx-uwsgi; scgi_temp_path ${dir}/nginx-scgi;
  upstream hello { ${servers} keepalive 64; }
  server {
    listen 127.0.0.1:${port};
    location / { proxy_pass http://hello; proxy_http_version 1.1; proxy_set_header Connection ""; proxy_set_header X-Forwarded-For $remote_addr; }
  }
}
`,
  );
  return conf;
}
