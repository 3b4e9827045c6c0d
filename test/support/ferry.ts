import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { ownerMarker } from '../../src/supervisor/markers.js';
import { waitFor } from './wait.js';

const ROOT = path.resolve(import.meta.dirname, '../..');
const BIN = path.join(ROOT, 'bin', 'ferry.js');
const run = promisify(execFile);

/** Ports this process handed out: the kernel may offer a closed one again before it is used. */
const handedOut = new Set<number>();

/** A free TCP port on 127.0.0.1, never one this process was given before. */
export async function freePort(): Promise<number> {
  for (;;) {
    const port = await anyFreePort();
    if (handedOut.has(port)) continue;
    handedOut.add(port);
    return port;
  }
}

function anyFreePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
    server.on('error', reject);
  });
}

export function assertBuilt(): void {
  if (!existsSync(path.join(ROOT, 'dist', 'cli', 'main.js'))) {
    throw new Error(
      'dist/ is missing: the end-to-end tests run the built ferry; run `npm run build` (npm test does it)',
    );
  }
}

/** Builds hello's release tarballs (and any extra versions) into a temp dir. */
export async function buildReleases(dir: string, extra: string[] = []): Promise<void> {
  await run(process.execPath, [
    path.join(ROOT, 'examples/hello/build.mjs'),
    '--out',
    dir,
    ...extra.flatMap((v) => ['--version', v]),
  ]);
}

/** A `ferry up` process: its output so far, and how it ended up (serving, or exited with a code). */
export interface UpProcess {
  readonly child: ChildProcess;
  output(): string;
  /** 'up' once it printed "Ferry is up"; the exit code if it exited first. */
  readonly outcome: Promise<'up' | { code: number | null }>;
}

/** A running `ferry` command: its output so far and its exit code once it exits. */
export interface CliProcess {
  readonly child: ChildProcess;
  stdout(): string;
  stderr(): string;
  readonly exited: Promise<number | null>;
}

export interface FerryHarness {
  readonly home: string;
  readonly dir: string;
  readonly apiPort: number;
  readonly appPort: number;
  readonly configPath: string;
  daemon: ChildProcess | null;
  output: string;
  /**
   * Starts `ferry up [args]` and waits until it is up, which it says once no deployment runs (it
   * becomes `daemon`); fails if it exits.
   */
  start(...args: string[]): Promise<void>;
  /**
   * Starts `ferry up [args]` and waits until its API serves, while a resumed deployment may still
   * run (one held by the test, e.g. a gated release); fails if it exits.
   */
  startServing(...args: string[]): Promise<void>;
  /** Starts `ferry up [args]` without waiting; it is killed (-9) at cleanup unless it exits. */
  spawnUp(...args: string[]): UpProcess;
  /** Runs `ferry up [args]` expecting it to refuse: its exit code and output; fails if it comes up. */
  upFails(...args: string[]): Promise<{ code: number | null; output: string }>;
  /** kill -9 of the daemon process only (the router and the apps keep running). */
  kill9(): Promise<void>;
  cli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }>;
  /**
   * Starts `ferry args...` without waiting (a command that follows something: --wait, --follow,
   * --watch, logs -f); it is killed (-9) at cleanup unless it exits.
   */
  spawnCli(...args: string[]): CliProcess;
  json<T>(...args: string[]): Promise<T>;
  /** pids of processes carrying this home's instance marker. */
  instancePids(): number[];
  /**
   * The gate of hello's -gated releases (HELLO_GATE): closed, their new instances fail /healthz;
   * opened, they pass from then on. It starts closed.
   */
  openGate(): void;
  closeGate(): void;
  cleanup(): Promise<void>;
}

export interface HarnessOptions {
  readonly strategy?: string;
  readonly instances?: number;
  readonly extraVersions?: string[];
  readonly initialRelease?: string | null;
  readonly canarySteps?: string;
  /** The canary analysis, e.g. "{ max_error_rate: 5%, min_requests: 20, max_wait: 3s }". */
  readonly analysis?: string;
  /** Extra health settings, e.g. "start_period: 5s". */
  readonly health?: string;
  /** The health deadline of a deployment's start; 15s unless set. */
  readonly healthDeadline?: string;
  /** Extra lines for the app's block, indented as its keys (4 spaces). */
  readonly appExtra?: string;
  /** The app's run mapping (YAML flow style), instead of node server.mjs with HELLO_GATE set. */
  readonly run?: string;
  /** The health check (YAML flow style, e.g. `command: "..."`), instead of `http: { path: /healthz }`. */
  readonly healthCheck?: string;
  /** The app's artifact mapping (YAML flow style), instead of the built file:// releases. */
  readonly artifact?: string;
  /** Extra keys of the top-level api mapping (YAML flow style), e.g. `tls: { cert: c.pem, key: k.pem }`. */
  readonly api?: string;
  /** Extra top-level keys of ferry.yaml (YAML lines), e.g. `metrics: { listen: "127.0.0.1:9464" }`. */
  readonly top?: string;
  /** The top-level router mapping (YAML flow style), e.g. `{ hold_timeout: 500ms }`. */
  readonly router?: string;
  /** More environment variables for the daemon (`ferry up`) only. */
  readonly daemonEnv?: Readonly<Record<string, string>>;
}

export async function createHarness(opts: HarnessOptions = {}): Promise<FerryHarness> {
  assertBuilt();
  const dir = mkdtempSync(path.join(os.tmpdir(), 'ferry-e2e-'));
  const home = path.join(dir, 'home');
  await buildReleases(path.join(dir, 'dist'), opts.extraVersions ?? []);
  const apiPort = await freePort();
  const appPort = await freePort();
  const configPath = path.join(dir, 'ferry.yaml');
  const gate = path.join(dir, 'gate');
  const initial = opts.initialRelease === undefined ? '1.0.0' : opts.initialRelease;
  writeFileSync(
    configPath,
    `api: { listen: "127.0.0.1:${apiPort}"${opts.api ? `, ${opts.api}` : ''} }
${opts.top ? `${opts.top}\n` : ''}${opts.router ? `router: ${opts.router}\n` : ''}apps:
  hello:
    artifact: ${opts.artifact ?? '{ url: "dist/hello-{version}.tar.gz", checksums: dist/SHA256SUMS }'}
${initial ? `    initial_release: ${initial}\n` : ''}    run: ${opts.run ?? `{ command: node, args: [server.mjs], env: { HELLO_GATE: "${gate}" } }`}
    instances: ${opts.instances ?? 2}
    listen: "127.0.0.1:${appPort}"
    health: { ${opts.healthCheck ?? 'http: { path: /healthz }'}, interval: 100ms, timeout: 1s, healthy_threshold: 2, unhealthy_threshold: 3, deadline: ${opts.healthDeadline ?? '15s'}${opts.health ? `, ${opts.health}` : ''} }
    strategy:
      kind: ${opts.strategy ?? 'blue-green'}
      steps: ${opts.canarySteps ?? '[{ weight: 10%, pause: 1s }, { weight: 50%, pause: 1s }]'}
      analysis: ${opts.analysis ?? '{ max_error_rate: 5%, min_requests: 20 }'}
    stop: { grace: 5s }
${opts.appExtra ?? ''}`,
  );
  const started = new Set<ChildProcess>();
  const becomeDaemon = (up: UpProcess): UpProcess => {
    harness.daemon = up.child;
    harness.output = '';
    up.child.stdout?.on('data', (chunk: Buffer) => (harness.output += chunk.toString()));
    up.child.stderr?.on('data', (chunk: Buffer) => (harness.output += chunk.toString()));
    return up;
  };
  const harness: FerryHarness = {
    home,
    dir,
    apiPort,
    appPort,
    configPath,
    daemon: null,
    output: '',
    async start(...args: string[]) {
      const up = becomeDaemon(harness.spawnUp(...args));
      const outcome = await up.outcome;
      if (outcome !== 'up') throw new Error(`ferry up exited with ${outcome.code}:\n${up.output()}`);
    },
    async startServing(...args: string[]) {
      const up = becomeDaemon(harness.spawnUp(...args));
      // It says it is up only once no deployment runs, which may be long after this returns.
      up.outcome.catch(() => undefined);
      const serving = await waitFor(
        'the API of ferry up to serve',
        async () =>
          up.child.exitCode !== null || up.child.signalCode !== null
            ? 'exited'
            : (await harness.cli('status', '--json')).code === 0,
        60_000,
        100,
      );
      if (serving === 'exited') throw new Error(`ferry up exited:\n${up.output()}`);
    },
    spawnUp(...args: string[]) {
      const child = spawn(process.execPath, [BIN, 'up', '--config', configPath, ...args], {
        env: { ...process.env, FERRY_HOME: home, ...opts.daemonEnv },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      started.add(child);
      let output = '';
      child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
      child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
      let exit: { code: number | null } | null = null;
      child.once('exit', (code) => {
        started.delete(child);
        exit = { code };
      });
      const outcome = waitFor(
        'ferry up to be ready or to exit',
        (): 'up' | { code: number | null } | null => (output.includes('Ferry is up') ? 'up' : exit),
        60_000,
      );
      return { child, output: () => output, outcome };
    },
    async upFails(...args: string[]) {
      const up = harness.spawnUp(...args);
      const outcome = await up.outcome;
      if (outcome === 'up') {
        harness.daemon = up.child;
        throw new Error(`expected ferry up to refuse, but it came up:\n${up.output()}`);
      }
      return { code: outcome.code, output: up.output() };
    },
    async kill9() {
      const child = harness.daemon;
      if (!child || child.exitCode !== null) return;
      const gone = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGKILL');
      await gone;
      harness.daemon = null;
    },
    async cli(...args: string[]) {
      try {
        const { stdout, stderr } = await run(process.execPath, [BIN, ...args], {
          env: { ...process.env, FERRY_HOME: home },
        });
        return { code: 0, stdout, stderr };
      } catch (error) {
        const e = error as { code?: number; stdout?: string; stderr?: string };
        return {
          code: typeof e.code === 'number' ? e.code : 1,
          stdout: e.stdout ?? '',
          stderr: e.stderr ?? '',
        };
      }
    },
    spawnCli(...args: string[]) {
      const child = spawn(process.execPath, [BIN, ...args], {
        env: { ...process.env, FERRY_HOME: home },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      started.add(child);
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
      child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      const exited = new Promise<number | null>((resolve) =>
        child.once('exit', (code) => {
          started.delete(child);
          resolve(code);
        }),
      );
      return { child, stdout: () => stdout, stderr: () => stderr, exited };
    },
    async json<T>(...args: string[]): Promise<T> {
      const result = await harness.cli(...args, '--json');
      if (result.code !== 0)
        throw new Error(`ferry ${args.join(' ')} failed (${result.code}): ${result.stderr}`);
      return JSON.parse(result.stdout) as T;
    },
    instancePids() {
      return markedPids(home);
    },
    openGate() {
      writeFileSync(gate, '');
    },
    closeGate() {
      rmSync(gate, { force: true });
    },
    async cleanup() {
      await harness.kill9();
      for (const child of started) {
        if (child.exitCode !== null || child.signalCode !== null) continue;
        const gone = new Promise((resolve) => child.once('exit', resolve));
        child.kill('SIGKILL');
        await gone;
      }
      await harness.cli('down');
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return harness;
}

/**
 * Scans /proc for processes carrying this data directory's instance markers: FERRY_OWNER (or the
 * FERRY_HOME of instances started by an older Ferry) and an instance id.
 */
export function markedPids(home: string): number[] {
  const owner = `FERRY_OWNER=${ownerMarker(home)}`;
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const environ = readFileSync(`/proc/${entry}/environ`, 'utf8').split('\0');
      const mine = environ.includes(owner) || environ.includes(`FERRY_HOME=${home}`);
      if (mine && environ.some((v) => v.startsWith('FERRY_INSTANCE_ID='))) pids.push(Number(entry));
    } catch {
      // gone, or not ours to read
    }
  }
  return pids.sort((a, b) => a - b);
}
