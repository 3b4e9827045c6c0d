import { spawn } from 'node:child_process';
import { closeSync, openSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { FakeClock } from '../lib/clock.js';
import { findMarkedProcesses, ownerMarker } from './markers.js';
import { allocatePort } from './port.js';
import { isProcessAlive, readPidStart } from './proc.js';
import { killProcessTree } from './terminate.js';
import { specFor } from './test-support/fixtures.js';
import { cleanUpAfterEach, supervisedHome } from './test-support/harness.js';
import { waitFor, waitForLog } from './test-support/wait.js';

cleanUpAfterEach();

/**
 * Spawns a marked process the way a daemon that then crashed would have, outside any supervisor:
 * with the owner marker of `home`, or (`legacy`) with FERRY_HOME as Ferry before FERRY_OWNER did.
 */
async function spawnMarked(
  dir: string,
  home: string,
  instanceId: string,
  marker: 'owner' | 'legacy' = 'owner',
  extraEnv: Record<string, string> = {},
): Promise<{ pid: number; pidStart: number }> {
  const logFile = path.join(dir, `${instanceId}.log`);
  const log = openSync(logFile, 'a');
  const owner = marker === 'owner' ? { FERRY_OWNER: ownerMarker(home) } : { FERRY_HOME: home };
  const child = spawn(process.execPath, ['stubborn.cjs'], {
    cwd: dir,
    detached: true,
    stdio: ['ignore', log, log],
    env: { PATH: process.env.PATH, ...owner, FERRY_INSTANCE_ID: instanceId, ...extraEnv },
  });
  closeSync(log);
  child.unref();
  const identity = { pid: child.pid!, pidStart: readPidStart(child.pid!)! };
  await waitForLog(logFile, 'up');
  return identity;
}

function connectOnce(port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve();
    });
    socket.once('error', reject);
  });
}

describe('adoption after a daemon restart', () => {
  it('keeps instances running when the daemon detaches, and a new supervisor adopts and watches them', async () => {
    const { dir, supervisor, newSupervisor } = supervisedHome({ initialDelayMs: 20 });
    const spec = specFor(dir, 'serve', { port: await allocatePort() });
    const { pid, pidStart } = await supervisor.start(spec);
    await waitFor('listening', () => readFileSync(spec.logFile, 'utf8').includes('listening'));
    supervisor.detach();
    expect(isProcessAlive(pid, pidStart)).toBe(true);

    // The new daemon's supervisor polls adopted processes on a fake clock: the test says when.
    const clock = new FakeClock();
    const restarted = newSupervisor({ clock, adoptPollMs: 500, restart: { initialDelayMs: 20 } });
    expect(await restarted.supervisor.findMarkedProcesses()).toEqual([
      {
        pid,
        pidStart,
        instanceId: spec.id,
        labels: { app: 'test', env: 'production', version: '1.0.0', port: spec.port },
      },
    ]);
    expect(restarted.supervisor.adopt(spec, pid, pidStart + 1)).toBe(false);
    expect(restarted.supervisor.adopt(spec, pid, pidStart)).toBe(true);
    expect(restarted.supervisor.adopt(spec, pid, pidStart)).toBe(true);
    expect(restarted.supervisor.list()).toEqual([
      { id: spec.id, spec, state: 'running', pid, pidStart, restarts: 0 },
    ]);
    // Still serving: the adoption touched nothing.
    await connectOnce(spec.port);

    process.kill(pid, 'SIGKILL');
    await waitFor('the process to be gone', () => !isProcessAlive(pid, pidStart));
    // Not our child, so no exit event: the exit is noticed at the next poll, and only then.
    await clock.advance(499);
    expect(restarted.events).toEqual([]);
    expect(restarted.supervisor.state(spec.id)).toBe('running');
    await clock.advance(1);
    expect(restarted.supervisor.state(spec.id)).toBe('crashed');
    await clock.advance(20);
    await waitFor('the instance to be restarted', () => restarted.events.some((e) => e.type === 'started'));
    expect(restarted.events[0]).toEqual({
      type: 'exited',
      id: spec.id,
      pid,
      code: null,
      signal: null,
      expected: false,
    });
    const [again] = restarted.supervisor.list();
    expect(again).toMatchObject({ state: 'running', restarts: 1 });
    expect(again!.pid).not.toBe(pid);
    expect(await restarted.supervisor.stop(spec.id, { graceMs: 5_000, reason: 'test' })).toEqual({
      killed: false,
    });
  });

  it('stops an adopted instance gracefully, reporting the exit as expected', async () => {
    const { dir, supervisor, newSupervisor } = supervisedHome();
    const spec = specFor(dir, 'stubborn');
    const { pid, pidStart } = await supervisor.start(spec);
    await waitForLog(spec.logFile, 'up');
    supervisor.detach();
    const restarted = newSupervisor();
    restarted.supervisor.adopt(spec, pid, pidStart);
    expect(await restarted.supervisor.stop(spec.id, { graceMs: 200, reason: 'retired' })).toEqual({
      killed: true,
    });
    expect(isProcessAlive(pid, pidStart)).toBe(false);
    expect(restarted.events.map((e) => e.type)).toEqual(['exited', 'stopped']);
    expect(restarted.events[0]).toMatchObject({ expected: true });
  });

  it('does not adopt a process that is gone', async () => {
    const { dir, supervisor, newSupervisor } = supervisedHome();
    const spec = specFor(dir, 'stubborn');
    const { pid, pidStart } = await supervisor.start(spec);
    await supervisor.stop(spec.id, { graceMs: 100, reason: 'test' });
    expect(newSupervisor().supervisor.adopt(spec, pid, pidStart)).toBe(false);
  });
});

describe('marked processes and orphans', () => {
  it('finds a process spawned with the markers of this home only, and kills it with its tree', async () => {
    const { dir, supervisor } = supervisedHome();
    const orphan = await spawnMarked(dir, dir, 'web-1.0.0-abc');
    const strangers = [
      await spawnMarked(dir, `${dir}-other-home`, 'web-1.0.0-def'),
      await spawnMarked(dir, `${dir}-other-home`, 'web-1.0.0-ghi', 'legacy'),
      // Another home's instance whose app sets FERRY_HOME in its own run.env: the owner marker decides.
      await spawnMarked(dir, `${dir}-other-home`, 'web-1.0.0-jkl', 'owner', { FERRY_HOME: dir }),
    ];
    try {
      await waitFor(
        'the orphan to be found',
        async () => (await supervisor.findMarkedProcesses()).length > 0,
      );
      expect(await supervisor.findMarkedProcesses()).toEqual([
        { ...orphan, instanceId: 'web-1.0.0-abc', labels: null },
      ]);
      expect(await killProcessTree(orphan.pid, orphan.pidStart, 200)).toEqual({ killed: true });
      expect(isProcessAlive(orphan.pid, orphan.pidStart)).toBe(false);
      expect(await supervisor.findMarkedProcesses()).toEqual([]);
    } finally {
      for (const stranger of strangers) await killProcessTree(stranger.pid, stranger.pidStart, 0);
    }
  });

  it('recognises the instances of an older Ferry by their FERRY_HOME, so an upgrade re-adopts them', async () => {
    const { dir, supervisor } = supervisedHome();
    const old = await spawnMarked(dir, dir, 'web-0.9.0-abc', 'legacy', {
      FERRY_APP: 'web',
      FERRY_ENV: 'production',
      FERRY_VERSION: '0.9.0',
      PORT: '41234',
    });
    // The same directory through a symlink: its real path is what counts.
    const viaLink = `${dir}-link`;
    symlinkSync(dir, viaLink);
    try {
      const expected = [
        {
          ...old,
          instanceId: 'web-0.9.0-abc',
          labels: { app: 'web', env: 'production', version: '0.9.0', port: 41234 },
        },
      ];
      expect(await supervisor.findMarkedProcesses()).toEqual(expected);
      expect(findMarkedProcesses(viaLink)).toEqual(expected);
      expect(ownerMarker(viaLink)).toBe(ownerMarker(dir));
    } finally {
      rmSync(viaLink);
    }
  });

  it('reports an instance once, not its helper processes, which inherit the markers', async () => {
    const { dir, supervisor } = supervisedHome();
    const spec = specFor(dir, 'parent');
    const { pid, pidStart } = await supervisor.start(spec);
    await waitFor('the helper to be up', () => readFileSync(spec.logFile, 'utf8').includes('up'));
    expect(await supervisor.findMarkedProcesses()).toEqual([
      {
        pid,
        pidStart,
        instanceId: spec.id,
        labels: null, // port 0: not an instance Ferry would have started
      },
    ]);
  });

  it('never signals a reused pid: the start time must match', async () => {
    const { dir } = supervisedHome();
    const running = await spawnMarked(dir, dir, 'web-2');
    expect(await killProcessTree(running.pid, running.pidStart + 1, 0)).toEqual({ killed: false });
    expect(isProcessAlive(running.pid, running.pidStart)).toBe(true);
    expect(isProcessAlive(running.pid, running.pidStart - 1)).toBe(false);
    expect(readPidStart(2 ** 22 + 1)).toBeNull();
  });
});

describe('allocatePort', () => {
  it('returns a port that is free to listen on', async () => {
    const port = await allocatePort();
    expect(port).toBeGreaterThan(0);
    const server = net.createServer();
    await new Promise<void>((resolve, reject) =>
      server.once('error', reject).listen(port, '127.0.0.1', resolve),
    );
    await new Promise((resolve) => server.close(resolve));
  });
});
