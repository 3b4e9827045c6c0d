import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { nodeArgsFor, siblingEntry } from '../lib/entry.js';
import { RouterClient } from './client.js';
import { startBackend, type TestBackend } from './test-support/backends.js';
import { getOnce, runLoad } from './test-support/load.js';
import {
  backendSpec,
  freePort,
  routeSpec,
  startRouter,
  waitFor,
  type RouterUnderTest,
} from './test-support/router-harness.js';

describe('router: process lifecycle', () => {
  const cleanups: (() => Promise<void> | void)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  async function router(): Promise<RouterUnderTest> {
    const started = await startRouter();
    cleanups.push(() => started.cleanup());
    return started;
  }

  async function backend(name: string): Promise<TestBackend> {
    const started = await startBackend(name);
    cleanups.push(() => started.kill());
    return started;
  }

  it('reuses a live router, and after kill -9 of its keeper comes back with the saved table', async () => {
    const { client, pid, stateDir } = await router();
    expect(readFileSync(join(stateDir, 'router.pid'), 'utf8').trim()).toBe(String(pid));
    expect(await client.ensureRunning()).toEqual({ pid, started: false });

    const app = await backend('app');
    const port = await freePort();
    const spec = routeSpec('hello.production', port, [backendSpec(app, 'v1')], 5000);
    await client.putRoute(spec);
    expect((await getOnce(`http://127.0.0.1:${port}/`)).backend).toBe('app');

    process.kill(pid, 'SIGKILL');
    await waitFor('the router to die', () => !isAlive(pid));
    // Its workers hand the sockets to a new keeper; ensureRunning finds that one.
    const again = await client.ensureRunning();
    expect(again.pid).not.toBe(pid);
    expect(await client.routes()).toEqual([spec]);
    expect((await getOnce(`http://127.0.0.1:${port}/`)).backend).toBe('app');
  });

  it('keeps serving when the daemon that started it is killed with its whole process group: 0 failed', async () => {
    const stateDir = mkdtempSync(join(tmpdir(), 'ferry-router-'));
    const client = new RouterClient({ stateDir });
    cleanups.push(async () => {
      await client.stop();
      rmSync(stateDir, { recursive: true, force: true });
    });
    const app = await backend('outliving');
    const port = await freePort();
    const standIn = siblingEntry(import.meta.url, './test-support/daemon-stand-in');
    const daemon = spawn(
      process.execPath,
      [
        ...nodeArgsFor(standIn),
        stateDir,
        JSON.stringify(routeSpec('outlive', port, [backendSpec(app, 'v1')])),
      ],
      {
        detached: true,
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    cleanups.push(() => {
      if (daemon.exitCode === null && daemon.signalCode === null) daemon.kill('SIGKILL');
    });
    const routerPid = await new Promise<number>((resolve, reject) => {
      daemon.stdout.once('data', (chunk: Buffer) => resolve(Number.parseInt(chunk.toString(), 10)));
      daemon.once('exit', (code) => reject(new Error(`the daemon stand-in exited with ${code}`)));
    });

    let running = true;
    const load = runLoad({
      url: `http://127.0.0.1:${port}/`,
      concurrency: 8,
      durationMs: 100_000,
      maxRequests: 1_000_000,
      stopWhen: () => !running,
    });
    await waitFor('load through the router', () => app.received > 300);
    const exited = new Promise((resolve) => daemon.once('exit', resolve));
    process.kill(-daemon.pid!, 'SIGKILL');
    await exited;
    const before = app.received;
    await waitFor('load after the daemon died', () => app.received > before + 1000);
    running = false;
    const result = await load;
    expect(result.failures).toEqual([]);
    expect(result.failed).toBe(0);
    expect(isAlive(routerPid)).toBe(true);
    expect(await client.ensureRunning()).toEqual({ pid: routerPid, started: false });
  });

  it('refuses to start a second router on a state directory a live one owns', async () => {
    const { stateDir, pid } = await router();
    const second = spawnSync(
      process.execPath,
      [...nodeArgsFor(siblingEntry(import.meta.url, './keeper/main')), '--state-dir', stateDir],
      {
        encoding: 'utf8',
        timeout: 20_000,
      },
    );
    expect(second.status).toBe(1);
    expect(second.stdout).toContain('another router keeper owns this state directory');
    expect(isAlive(pid)).toBe(true);
    expect(existsSync(join(stateDir, 'router.sock'))).toBe(true);
  });

  it('starts one router when two clients start it at the same moment', async () => {
    const stateDir = mkdtempSync(join(tmpdir(), 'ferry-router-'));
    const [first, second] = [new RouterClient({ stateDir }), new RouterClient({ stateDir })];
    cleanups.push(async () => {
      await first.stop();
      rmSync(stateDir, { recursive: true, force: true });
    });
    const [a, b] = await Promise.all([first.ensureRunning(), second.ensureRunning()]);
    expect(a.pid).toBe(b.pid);
    // The other spawned keeper finds the directory locked and exits.
    const keepers = (): string =>
      spawnSync('pgrep', ['-f', '--', `router/keeper/main.* --state-dir ${stateDir}`], {
        encoding: 'utf8',
      }).stdout.trim();
    await waitFor('a single keeper process', () => keepers() === String(a.pid));
    expect(await first.ensureRunning()).toEqual({ pid: a.pid, started: false });
  });

  it('on SIGTERM stops accepting, finishes the request in flight, exits, and keeps its table', async () => {
    const { client, pid, stateDir } = await router();
    let release: (() => void) | undefined;
    const slow = await startBackend('slow', {
      handler: (_req, res) => {
        release = () => res.end(JSON.stringify({ backend: 'slow' }));
      },
    });
    cleanups.push(() => slow.kill());
    const port = await freePort();
    await client.putRoute(routeSpec('slow', port, [backendSpec(slow, 'v1')]));
    const inFlight = getOnce(`http://127.0.0.1:${port}/`);
    await waitFor('the request to reach the backend', () => release !== undefined);
    const stopped = client.stop();
    await waitFor('the listener to stop accepting', async () => !(await acceptsConnections(port)));
    expect(isAlive(pid)).toBe(true);
    release!();
    expect(await inFlight).toMatchObject({ status: 200, backend: 'slow' });
    await stopped;
    expect(isAlive(pid)).toBe(false);
    expect(existsSync(join(stateDir, 'router.sock'))).toBe(false);
    expect(JSON.parse(readFileSync(join(stateDir, 'routes.json'), 'utf8'))).toMatchObject({
      routes: [{ name: 'slow' }],
    });
  });
});

function acceptsConnections(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
