import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tar from 'tar';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';

const buildScript = fileURLToPath(new URL('../../examples/hello/build.mjs', import.meta.url));
const DEFAULT_VERSIONS = ['1.0.0', '1.1.0', '2.0.0-unhealthy', '2.0.1-errors'];

let work: string;
let dist: string;
const running: ChildProcess[] = [];

/** Runs build.mjs and returns its output; rejects when it exits non-zero. */
function build(...args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [buildScript, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
    child.on('error', reject);
    child.on('close', (code) =>
      code === 0 ? resolve(output) : reject(new Error(`build exited ${code}: ${output}`)),
    );
  });
}

function sha256(file: string): string {
  return createHash('sha256').update(readFileSync(file)).digest('hex');
}

interface Release {
  readonly child: ChildProcess;
  readonly port: number;
  /** Everything the server printed so far. */
  readonly output: () => string;
  /** Resolves with the exit code (null if killed by a signal). */
  readonly exited: Promise<number | null>;
}

/** Unpacks hello-<version>.tar.gz into a fresh directory and starts its server.mjs on a free port. */
async function startRelease(version: string, env: Record<string, string> = {}): Promise<Release> {
  const dir = mkdtempSync(join(work, `run-${version}-`));
  await tar.x({ file: join(dist, `hello-${version}.tar.gz`), cwd: dir });
  const child = spawn(process.execPath, [join(dir, 'server.mjs')], {
    env: { ...process.env, PORT: '0', HOST: '127.0.0.1', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  running.push(child);
  let output = '';
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const port = await new Promise<number>((resolve, reject) => {
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      output += chunk;
      const match = /listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(output);
      if (match) resolve(Number(match[1]));
    });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
    void exited.then((code) => reject(new Error(`server exited ${code} before listening: ${output}`)));
  });
  return { child, port, output: () => output, exited };
}

interface Reply {
  readonly status: number;
  readonly headers: http.IncomingHttpHeaders;
  readonly body: string;
}

function get(port: number, path: string, agent?: http.Agent, onHeaders?: () => void): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path, agent }, (res) => {
      onHeaders?.();
      let body = '';
      res.setEncoding('utf8').on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      res.on('error', reject);
    });
    req.on('error', reject);
  });
}

function waitForOutput(release: Release, text: string): Promise<void> {
  return new Promise((resolve) => {
    const check = () => (release.output().includes(text) ? resolve() : setTimeout(check, 10));
    check();
  });
}

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'ferry-hello-test-'));
  dist = join(work, 'dist');
  await build('--out', dist, '--version', '3.0.0-test', '--version', '3.0.1-gated');
});

afterEach(() => {
  for (const child of running.splice(0))
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
});

afterAll(() => {
  rmSync(work, { recursive: true, force: true });
});

describe('examples/hello build', () => {
  it('builds one tarball per version, listed in SHA256SUMS with their real checksums', () => {
    const expected = [...DEFAULT_VERSIONS, '3.0.0-test', '3.0.1-gated']
      .map((v) => `hello-${v}.tar.gz`)
      .sort();
    expect(
      readdirSync(dist)
        .filter((name) => name.endsWith('.tar.gz'))
        .sort(),
    ).toEqual(expected);
    const lines = readFileSync(join(dist, 'SHA256SUMS'), 'utf8').trimEnd().split('\n');
    expect(lines).toEqual(expected.map((name) => `${sha256(join(dist, name))}  ${name}`));
  });

  it('puts exactly server.mjs and VERSION at the archive root', async () => {
    const entries: string[] = [];
    await tar.t({
      file: join(dist, 'hello-3.0.0-test.tar.gz'),
      onReadEntry: (entry) => entries.push(entry.path),
    });
    expect(entries.sort()).toEqual(['VERSION', 'server.mjs']);
  });

  it('builds byte-identical tarballs every time', async () => {
    const again = join(work, 'dist-again');
    await build('--out', again);
    for (const version of DEFAULT_VERSIONS) {
      const name = `hello-${version}.tar.gz`;
      expect(sha256(join(again, name)), name).toBe(sha256(join(dist, name)));
    }
  });

  it('refuses a version that cannot be a file name', async () => {
    await expect(build('--out', join(work, 'bad'), '--version', '../escape')).rejects.toThrow(/--version/);
  });
});

describe('examples/hello server', () => {
  it('names its version on / and is healthy', async () => {
    const release = await startRelease('1.1.0');
    const hello = await get(release.port, '/');
    expect(hello).toMatchObject({ status: 200, body: 'hello from 1.1.0\n' });
    expect(hello.headers['x-version']).toBe('1.1.0');
    expect(hello.headers['content-type']).toMatch(/^text\/plain/);
    expect(await get(release.port, '/healthz')).toMatchObject({ status: 200, body: 'ok\n' });
    expect((await get(release.port, '/nope')).status).toBe(404);
  });

  it('an -unhealthy build fails /healthz but still answers /', async () => {
    const release = await startRelease('2.0.0-unhealthy');
    for (let i = 0; i < 3; i += 1) {
      expect(await get(release.port, '/healthz')).toMatchObject({ status: 503, body: 'unhealthy build\n' });
    }
    expect(await get(release.port, '/')).toMatchObject({ status: 200, body: 'hello from 2.0.0-unhealthy\n' });
  });

  it('a -gated build fails /healthz until its gate file exists, then stays healthy', async () => {
    const gate = join(work, 'gate');
    const release = await startRelease('3.0.1-gated', { HELLO_GATE: gate });
    expect(await get(release.port, '/healthz')).toMatchObject({ status: 503, body: `waiting for ${gate}\n` });
    expect(await get(release.port, '/')).toMatchObject({ status: 200, body: 'hello from 3.0.1-gated\n' });
    writeFileSync(gate, '');
    expect(await get(release.port, '/healthz')).toMatchObject({ status: 200, body: 'ok\n' });
    // Opened once is open for good: the test may close the gate for the next release.
    rmSync(gate);
    expect(await get(release.port, '/healthz')).toMatchObject({ status: 200, body: 'ok\n' });
  });

  it('a -gated build without HELLO_GATE says what it needs and exits 1', async () => {
    const dir = mkdtempSync(join(work, 'run-ungated-'));
    await tar.x({ file: join(dist, 'hello-3.0.1-gated.tar.gz'), cwd: dir });
    const child = spawn(process.execPath, [join(dir, 'server.mjs')], {
      env: { ...process.env, PORT: '0', HELLO_GATE: '' },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    // 'close': the exit and every byte of its output.
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    expect(code).toBe(1);
    expect(stderr).toContain('a -gated build needs HELLO_GATE');
  });

  it('an -errors build stays healthy but fails 9 of 10 requests to /', async () => {
    const release = await startRelease('2.0.1-errors');
    const statuses: number[] = [];
    for (let i = 0; i < 30; i += 1) {
      statuses.push((await get(release.port, '/')).status);
      expect((await get(release.port, '/healthz')).status).toBe(200);
    }
    expect(statuses.filter((s) => s === 500)).toHaveLength(27);
    expect(statuses.filter((s) => s === 200)).toHaveLength(3);
  });

  it('on SIGTERM refuses new connections, finishes the request in flight and exits 0 despite a keep-alive client', async () => {
    const release = await startRelease('1.1.0');
    const idle = new http.Agent({ keepAlive: true });
    const busy = new http.Agent({ keepAlive: true });
    try {
      // A keep-alive client that stays connected, idle.
      expect((await get(release.port, '/', idle)).status).toBe(200);
      expect(Object.values(idle.freeSockets).flat()).toHaveLength(1);

      let headersSeen!: () => void;
      const inFlightStarted = new Promise<void>((resolve) => (headersSeen = resolve));
      const inFlight = get(release.port, '/?delay=1500', busy, headersSeen);
      await inFlightStarted;
      release.child.kill('SIGTERM');
      await waitForOutput(release, 'draining');

      await expect(get(release.port, '/healthz')).rejects.toMatchObject({ code: 'ECONNREFUSED' });
      expect(await inFlight).toMatchObject({ status: 200, body: 'hello from 1.1.0\n' });
      expect(await release.exited).toBe(0);
    } finally {
      idle.destroy();
      busy.destroy();
    }
  });
});
