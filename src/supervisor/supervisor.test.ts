import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { isFerryError } from '../errors/ferry-error.js';
import { ownerMarker } from './markers.js';
import { allocatePort } from './port.js';
import { isProcessAlive, readPidStart, readProcessStat } from './proc.js';
import { specFor } from './test-support/fixtures.js';
import { cleanUpAfterEach, supervisedHome } from './test-support/harness.js';
import { waitFor, waitForLog } from './test-support/wait.js';
import type { SupervisorEvent } from './types.js';

cleanUpAfterEach();

const logOf = (file: string) => readFileSync(file, 'utf8');
const types = (events: SupervisorEvent[]) => events.map((e) => e.type);

describe('Supervisor.start and stop', () => {
  it('starts a detached group leader with PORT, the markers and a clean environment, and stops it gracefully', async () => {
    const { dir, supervisor, events } = supervisedHome();
    process.env.FERRY_TEST_DAEMON_SECRET = 'hunter2';
    const spec = specFor(dir, 'printenv', {
      port: await allocatePort(),
      envVars: { GREETING: 'hello', PORT: '1' },
    });
    const { pid, pidStart } = await supervisor
      .start(spec)
      .finally(() => delete process.env.FERRY_TEST_DAEMON_SECRET);
    expect(readPidStart(pid)).toBe(pidStart);
    expect(readProcessStat(pid)).toMatchObject({ pgrp: pid });
    const env = JSON.parse(
      await waitFor('the environment in the log', () => logOf(spec.logFile).split('\n')[0]),
    ) as Record<string, string>;
    expect(env).toMatchObject({
      GREETING: 'hello',
      PORT: String(spec.port),
      FERRY_APP: 'test',
      FERRY_ENV: 'production',
      FERRY_VERSION: '1.0.0',
      FERRY_INSTANCE_ID: spec.id,
      FERRY_OWNER: ownerMarker(dir),
    });
    // The owner marker is opaque: nothing in the environment tells the app where the data dir is.
    expect(env.FERRY_HOME).toBeUndefined();
    expect(Object.values(env).filter((value) => value.includes(dir))).toEqual([]);
    expect(env.FERRY_TEST_DAEMON_SECRET).toBeUndefined();
    expect(env.PATH).toBe(process.env.PATH);
    expect(supervisor.state(spec.id)).toBe('running');

    expect(await supervisor.stop(spec.id, { graceMs: 5_000, reason: 'retired' })).toEqual({ killed: false });
    expect(isProcessAlive(pid, pidStart)).toBe(false);
    expect(supervisor.state(spec.id)).toBe('stopped');
    expect(types(events)).toEqual(['started', 'exited', 'stopped']);
    expect(events[1]).toMatchObject({ expected: true, signal: 'SIGTERM' });
    expect(events[2]).toEqual({ type: 'stopped', id: spec.id, reason: 'retired', killed: false });
  });

  it('lets a graceful process finish: its SIGTERM handler runs', async () => {
    const { dir, supervisor } = supervisedHome();
    const spec = specFor(dir, 'serve', { port: await allocatePort() });
    await supervisor.start(spec);
    await waitFor('listening', () => logOf(spec.logFile).includes('listening'));
    expect(await supervisor.stop(spec.id, { graceMs: 5_000, reason: 'test' })).toEqual({ killed: false });
    expect(logOf(spec.logFile)).toContain('bye');
  });

  it('SIGKILLs a process that ignores SIGTERM once the grace period is over', async () => {
    const { dir, supervisor, events } = supervisedHome();
    const spec = specFor(dir, 'stubborn');
    const { pid, pidStart } = await supervisor.start(spec);
    await waitFor('the process to be up', () => logOf(spec.logFile).includes('up'));
    const started = Date.now();
    expect(await supervisor.stop(spec.id, { graceMs: 300, reason: 'test' })).toEqual({ killed: true });
    expect(Date.now() - started).toBeGreaterThanOrEqual(300);
    expect(isProcessAlive(pid, pidStart)).toBe(false);
    expect(logOf(spec.logFile)).toContain('ignoring SIGTERM');
    expect(events.at(-1)).toMatchObject({ type: 'stopped', killed: true });
  });

  it('stops the whole process group, helpers included', async () => {
    const { dir, supervisor } = supervisedHome();
    const spec = specFor(dir, 'parent');
    await supervisor.start(spec);
    const helper = Number(
      await waitFor('the helper pid', () => /helper (\d+)/.exec(logOf(spec.logFile))?.[1]),
    );
    await waitFor('the helper to be up', () => logOf(spec.logFile).includes('up'));
    const helperStart = readPidStart(helper)!;
    expect(await supervisor.stop(spec.id, { graceMs: 300, reason: 'test' })).toEqual({ killed: true });
    expect(isProcessAlive(helper, helperStart)).toBe(false);
  });

  it('records the first reason; a second stop joins the first', async () => {
    const { dir, supervisor, events } = supervisedHome();
    const spec = specFor(dir, 'stubborn');
    await supervisor.start(spec);
    await waitForLog(spec.logFile, 'up');
    const first = supervisor.stop(spec.id, { graceMs: 200, reason: 'first' });
    const second = supervisor.stop(spec.id, { graceMs: 200, reason: 'second' });
    expect(await second).toEqual(await first);
    expect(events.filter((e) => e.type === 'stopped')).toEqual([
      { type: 'stopped', id: spec.id, reason: 'first', killed: true },
    ]);
    expect(await supervisor.stop(spec.id, { graceMs: 200, reason: 'again' })).toEqual({ killed: false });
  });

  it('fails with FERRY_E_PROCESS_START when the command or the release directory is missing', async () => {
    const { dir, supervisor } = supervisedHome();
    const noCommand = specFor(dir, 'serve', { command: 'ferry-no-such-command' });
    const error = await supervisor.start(noCommand).catch((e: unknown) => e);
    expect(isFerryError(error, 'FERRY_E_PROCESS_START')).toBe(true);
    expect(String(error)).toMatch(
      /expected "ferry-no-such-command" to be an executable command .*got not found/,
    );
    expect(supervisor.state(noCommand.id)).toBeUndefined();

    const noDir = await supervisor
      .start(specFor(dir, 'serve', { cwd: `${dir}/releases/9.9.9` }))
      .catch((e: unknown) => e);
    expect(isFerryError(noDir, 'FERRY_E_PROCESS_START')).toBe(true);
    expect(String(noDir)).toMatch(/expected its release directory .*releases\/9\.9\.9 to exist/);

    const noLog = await supervisor
      .start(specFor(dir, 'serve', { logFile: `${dir}/serve.cjs/instance.log` }))
      .catch((e: unknown) => e);
    expect(isFerryError(noLog, 'FERRY_E_PROCESS_START')).toBe(true);
    expect(String(noLog)).toMatch(/expected to open its log file .*serve\.cjs\/instance\.log for writing/);
  });

  it('refuses to start an instance twice, and to act once detached', async () => {
    const { dir, supervisor } = supervisedHome();
    const spec = specFor(dir, 'stubborn');
    await supervisor.start(spec);
    const twice = await supervisor.start(spec).catch((e: unknown) => e);
    expect(isFerryError(twice, 'FERRY_E_ILLEGAL_STATE') && twice.message).toMatch(
      /is running; it cannot be started again/,
    );
    supervisor.detach();
    expect(() => supervisor.adopt(spec, 1, 1)).toThrow(/the supervisor is detached/);
  });
});

describe('Supervisor restarts', () => {
  it('restarts a crashing process with doubling backoff, then marks it crash-looping and keeps trying', async () => {
    const { dir, supervisor, events } = supervisedHome({
      initialDelayMs: 20,
      maxDelayMs: 400,
      crashLoopRestarts: 3,
      crashLoopWindowMs: 60_000,
    });
    const spec = specFor(dir, 'crash');
    await supervisor.start(spec);
    await waitFor('the crash loop', () => events.some((e) => e.type === 'crash-loop'));
    await waitFor(
      'a restart inside the crash loop',
      () => events.filter((e) => e.type === 'started').length >= 5,
    );
    const delays = events.flatMap((e) => (e.type === 'restarting' ? [e.inMs] : []));
    expect(delays.slice(0, 4)).toEqual([20, 40, 80, 400]);
    expect(events.find((e) => e.type === 'crash-loop')).toEqual({
      type: 'crash-loop',
      id: spec.id,
      restarts: 3,
    });
    expect(
      events
        .filter((e) => e.type === 'exited')
        .every((e) => e.type === 'exited' && !e.expected && e.code === 3),
    ).toBe(true);
    expect(events.filter((e) => e.type === 'started').map((e) => e.type === 'started' && e.restarts)).toEqual(
      [0, 1, 2, 3, 4],
    );
    expect(supervisor.state(spec.id)).toBe('crash-loop');
    expect(supervisor.list()[0]).toMatchObject({ id: spec.id, state: 'crash-loop', restarts: 4 });
  });

  it('leaves the crash loop once a restarted process has run for a whole window', async () => {
    const { dir, supervisor, events } = supervisedHome({
      initialDelayMs: 10,
      maxDelayMs: 50,
      crashLoopRestarts: 2,
      crashLoopWindowMs: 400,
    });
    const spec = specFor(dir, 'flaky', { envVars: { CRASHES: '4' } });
    await supervisor.start(spec);
    await waitFor('the crash loop', () => events.some((e) => e.type === 'crash-loop'));
    await waitFor('the fifth run to be up', () => readFileSync(spec.logFile, 'utf8').includes('run 5 up'));
    expect(supervisor.state(spec.id)).toBe('crash-loop');
    await waitFor('the recovery', () => supervisor.state(spec.id) === 'running');
    expect(supervisor.list()[0]).toMatchObject({ restarts: 4 });
  });

  it('cancels a pending restart on stop', async () => {
    const { dir, supervisor, events } = supervisedHome({ initialDelayMs: 60_000 });
    const spec = specFor(dir, 'crash');
    await supervisor.start(spec);
    await waitFor('the restart to be scheduled', () => events.some((e) => e.type === 'restarting'));
    expect(supervisor.state(spec.id)).toBe('crashed');
    expect(await supervisor.stop(spec.id, { graceMs: 1_000, reason: 'given up' })).toEqual({ killed: false });
    expect(supervisor.state(spec.id)).toBe('stopped');
    expect(types(events)).toEqual(['started', 'exited', 'restarting', 'stopped']);
  });
});
