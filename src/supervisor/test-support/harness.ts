import { afterEach, expect } from 'vitest';
import type { Clock } from '../../lib/clock.js';
import { findMarkedProcesses } from '../markers.js';
import { Supervisor, type SupervisorOptions } from '../supervisor.js';
import { killProcessTree } from '../terminate.js';
import type { SupervisorEvent } from '../types.js';
import { fixtureDir } from './fixtures.js';

const homes: Array<{ dir: string; cleanup: () => void; supervisors: Supervisor[] }> = [];

/**
 * Registers the cleanup of every test using `supervisedHome`: supervisors detached, every process
 * carrying the home's markers killed, and then none may be left (no orphans after the run).
 */
export function cleanUpAfterEach(): void {
  afterEach(async () => {
    for (const home of homes.splice(0)) {
      for (const supervisor of home.supervisors) supervisor.detach();
      for (const p of findMarkedProcesses(home.dir)) await killProcessTree(p.pid, p.pidStart, 200);
      expect(findMarkedProcesses(home.dir)).toEqual([]);
      home.cleanup();
    }
  });
}

/**
 * A fresh Ferry home with the fixture scripts, and a supervisor on it that records its events. With
 * a clock (a FakeClock), every delay and window of its supervisors waits for the test to advance it.
 */
export function supervisedHome(restart: SupervisorOptions['restart'] = {}, clock?: Clock) {
  const fixtures = fixtureDir();
  const home = { ...fixtures, supervisors: [] as Supervisor[] };
  homes.push(home);
  const newSupervisor = (opts: Partial<SupervisorOptions> = {}) => {
    const events: SupervisorEvent[] = [];
    const supervisor = new Supervisor({
      ferryHome: fixtures.dir,
      restart,
      onEvent: (e) => events.push(e),
      adoptPollMs: 50,
      ...(clock ? { clock } : {}),
      ...opts,
    });
    home.supervisors.push(supervisor);
    return { supervisor, events };
  };
  return { dir: fixtures.dir, newSupervisor, ...newSupervisor() };
}
