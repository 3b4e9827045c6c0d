import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { isFerryError } from '../errors/ferry-error.js';
import { FakeClock } from '../lib/clock.js';
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

  it('SIGKILLs a process that ignores SIGTERM once the grace period is over, not before', async () => {
    const clock = new FakeClock();
    const { dir, supervisor, events } = supervisedHome({}, clock);
    const spec = specFor(dir, 'stubborn');
    const { pid, pidStart } = await supervisor.start(spec);
    await waitForLog(spec.logFile, 'up');
    let outcome: { killed: boolean } | null = null;
    const stopping = supervisor.stop(spec.id, { graceMs: 10_000, reason: 'test' }).then((o) => (outcome = o));
    // SIGTERM was sent and ignored; the grace period runs on the fake clock, which has not moved.
    await waitForLog(spec.logFile, 'ignoring SIGTERM');
    await clock.advance(9_999);
    expect(isProcessAlive(pid, pidStart)).toBe(true);
    expect(outcome).toBeNull();
    expect(supervisor.state(spec.id)).toBe('stopping');
    await clock.advance(1);
    expect(await stopping).toEqual({ killed: true });
    expect(isProcessAlive(pid, pidStart)).toBe(false);
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

/**
 * Restarts on a fake clock: each exit is real (a fixture process crashing), each delay and window
 * passes only when the test advances the clock, so no test races node's start-up time.
 */
describe('Supervisor restarts', () => {
  const restartsOf = (events: SupervisorEvent[]) =>
    events.flatMap((e) => (e.type === 'restarting' ? [e] : []));

  /** Waits for restart `n` to be scheduled (the nth unexpected exit), then lets its delay pass. */
  async function passRestart(clock: FakeClock, events: SupervisorEvent[], n: number): Promise<void> {
    const restarting = await waitFor(`restart ${n} to be scheduled`, () => restartsOf(events)[n - 1]);
    await clock.advance(restarting.inMs);
  }

  it('restarts a crashing process with doubling backoff, then marks it crash-looping and keeps trying', async () => {
    const clock = new FakeClock();
    const { dir, supervisor, events } = supervisedHome(
      { initialDelayMs: 20, maxDelayMs: 400, crashLoopRestarts: 3, crashLoopWindowMs: 60_000 },
      clock,
    );
    const spec = specFor(dir, 'crash');
    await supervisor.start(spec);
    await waitFor('the first restart to be scheduled', () => restartsOf(events).length === 1);
    // Nothing restarts before its delay has passed.
    expect(supervisor.state(spec.id)).toBe('crashed');
    await clock.advance(19);
    expect(supervisor.list()[0]).toMatchObject({ state: 'crashed', restarts: 0 });
    await clock.advance(1);
    expect(supervisor.list()[0]).toMatchObject({ restarts: 1 });
    for (const n of [2, 3, 4]) await passRestart(clock, events, n);
    await waitFor('the fifth start', () => events.filter((e) => e.type === 'started').length === 5);

    expect(restartsOf(events).map((e) => e.inMs)).toEqual([20, 40, 80, 400]);
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

  it('leaves the crash loop once a restarted process has run for a whole window, and backs off afresh', async () => {
    const clock = new FakeClock();
    const { dir, supervisor, events } = supervisedHome(
      { initialDelayMs: 10, maxDelayMs: 50, crashLoopRestarts: 2, crashLoopWindowMs: 400 },
      clock,
    );
    const spec = specFor(dir, 'flaky', { envVars: { CRASHES: '4' } });
    await supervisor.start(spec);
    for (const n of [1, 2, 3, 4]) await passRestart(clock, events, n);
    expect(restartsOf(events).map((e) => e.inMs)).toEqual([10, 20, 50, 50]);
    await waitForLog(spec.logFile, 'run 5 up');
    await waitFor('the fifth start', () => events.filter((e) => e.type === 'started').length === 5);
    expect(events.filter((e) => e.type === 'crash-loop')).toHaveLength(1);

    // Up, but still in the crash loop until it has run for the whole window.
    await clock.advance(399);
    expect(supervisor.state(spec.id)).toBe('crash-loop');
    await clock.advance(1);
    expect(supervisor.state(spec.id)).toBe('running');
    expect(supervisor.list()[0]).toMatchObject({ restarts: 4 });

    // A crash after a whole window of running counts as the first: the initial delay again.
    const { pid, pidStart } = supervisor.list()[0]!;
    process.kill(pid!, 'SIGKILL');
    await waitFor('the restart to be scheduled', () => restartsOf(events).length === 5);
    expect(restartsOf(events)[4]).toMatchObject({ inMs: 10 });
    expect(supervisor.state(spec.id)).toBe('crashed');
    expect(isProcessAlive(pid!, pidStart!)).toBe(false);
  });

  it('cancels a pending restart on stop', async () => {
    const clock = new FakeClock();
    const { dir, supervisor, events } = supervisedHome({ initialDelayMs: 60_000 }, clock);
    const spec = specFor(dir, 'crash');
    await supervisor.start(spec);
    await waitFor('the restart to be scheduled', () => events.some((e) => e.type === 'restarting'));
    expect(supervisor.state(spec.id)).toBe('crashed');
    expect(clock.pending).toBe(1);
    expect(await supervisor.stop(spec.id, { graceMs: 1_000, reason: 'given up' })).toEqual({ killed: false });
    expect(clock.pending).toBe(0);
    await clock.advance(60_000);
    expect(supervisor.state(spec.id)).toBe('stopped');
    expect(types(events)).toEqual(['started', 'exited', 'restarting', 'stopped']);
  });
});
