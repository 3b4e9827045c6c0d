import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { FakeClock } from '../lib/clock.js';
import { readPidStart } from './proc.js';
import {
  cpuPercent,
  parseProcessSample,
  processStartedAt,
  readProcessUsage,
  sampleProcess,
} from './process-usage.js';
import { specFor } from './test-support/fixtures.js';
import { cleanUpAfterEach, supervisedHome } from './test-support/harness.js';
import { waitFor, waitForLog } from './test-support/wait.js';

cleanUpAfterEach();

describe('process usage from /proc', () => {
  it('parses stat and statm, whatever the command name holds', () => {
    const stat =
      '4242 (my (odd) app) S 1 4242 4242 0 -1 4194560 500 0 0 0 150 25 0 0 20 0 1 0 987654 2998272 412 18446744073709551615';
    expect(parseProcessSample(stat, '765 439 410 5 0 123 0', 4096)).toEqual({
      cpuTicks: 175,
      rssBytes: 439 * 4096,
      starttime: 987654,
    });
    expect(parseProcessSample('garbage', '', 4096)).toBeNull();
  });

  it('the CPU share is the CPU time used over the time between two samples, per core', () => {
    const at = (cpuTicks: number) => ({ cpuTicks, rssBytes: 0, starttime: 1 });
    expect(cpuPercent(at(100), at(150), 1_000, 100)).toBe(50);
    expect(cpuPercent(at(100), at(300), 1_000, 100)).toBe(200);
    expect(cpuPercent(at(100), at(100), 2_000, 100)).toBe(0);
    expect(cpuPercent(at(100), at(101), 0, 100)).toBeNull();
    expect(processStartedAt(250, { ticksPerSecond: 100, pageBytes: 4096, bootedAt: 1_000_000 })).toBe(
      1_002_500,
    );
  });
});

describe('Supervisor.usage: CPU and memory of real instances, sampled on its clock', () => {
  it('a busy process shows its CPU share, an idle one next to none; a restarted one starts afresh', async () => {
    const clock = new FakeClock();
    const { dir, supervisor } = supervisedHome({}, clock);
    const busy = specFor(dir, 'spin');
    const idle = specFor(dir, 'stubborn');
    const { pid } = await supervisor.start(busy);
    await supervisor.start(idle);
    await waitForLog(busy.logFile, 'spinning');
    await waitForLog(idle.logFile, 'up');
    supervisor.startSampling(1_000);
    const first = supervisor.usage(busy.id)!;
    expect(first).toMatchObject({ pid, cpuPercent: null });
    expect(first.rssBytes).toBeGreaterThan(1024 * 1024);
    expect(Math.abs(first.startedAt! - Date.now())).toBeLessThan(60_000);
    // Real CPU time passes on the real clock: wait until the busy one used 0.3 s of it, then let
    // the sampler's second (fake) second pass: 30 ticks over 1,000 ms is at least 30%.
    const ticks = sampleProcess(pid)!.cpuTicks;
    await waitFor('0.3 s of CPU used', () => sampleProcess(pid)!.cpuTicks >= ticks + 30);
    await clock.advance(1_000);
    expect(supervisor.usage(busy.id)!.cpuPercent!).toBeGreaterThanOrEqual(30);
    expect(supervisor.usage(idle.id)!.cpuPercent!).toBeLessThan(10);

    process.kill(pid, 'SIGKILL');
    await waitFor('the crash to be seen', () => supervisor.state(busy.id) === 'crashed');
    expect(supervisor.usage(busy.id)).toBeNull();
    await clock.advance(500);
    await waitFor('the restart', () => supervisor.state(busy.id) === 'running');
    const restarted = supervisor.usage(busy.id)!;
    expect(restarted.pid).not.toBe(pid);
    expect(restarted.cpuPercent).toBeNull();
    expect(supervisor.list().find((i) => i.id === busy.id)?.restarts).toBe(1);
  });

  it('an adopted instance keeps counting its restarts from where they were', async () => {
    const clock = new FakeClock();
    const home = supervisedHome({}, clock);
    const spec = specFor(home.dir, 'stubborn');
    const { pid, pidStart } = await home.supervisor.start(spec);
    home.supervisor.detach();
    const next = home.newSupervisor();
    expect(next.supervisor.adopt(spec, pid, pidStart, 3)).toBe(true);
    expect(next.supervisor.list()[0]).toMatchObject({ restarts: 3 });
    expect(next.supervisor.usage(spec.id)).toMatchObject({ pid, cpuPercent: null });
  });
});

describe('readProcessUsage', () => {
  it("reads a live process's CPU time and resident memory as ps sees them", async () => {
    // A process that has used 0.3 s of CPU and holds 64 MiB until killed.
    const child = spawn(
      process.execPath,
      [
        '-e',
        'const b = Buffer.alloc(64 * 1024 * 1024, 1); while (process.cpuUsage().user < 300000); console.log("ready"); setInterval(() => b[0]++, 1000);',
      ],
      { stdio: ['ignore', 'pipe', 'ignore'] },
    );
    try {
      await new Promise<void>((resolve) => child.stdout.once('data', () => resolve()));
      const pid = child.pid!;
      const usage = readProcessUsage(pid, readPidStart(pid));
      expect(usage).not.toBeNull();
      expect(usage!.cpuSeconds).toBeGreaterThanOrEqual(0.29);
      expect(usage!.rssBytes).toBeGreaterThan(64 * 1024 * 1024);
      // The kernel's own account, from /proc/<pid>/status, in kB.
      const { readFileSync } = await import('node:fs');
      const vmRss = Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) * 1024;
      expect(Math.abs(usage!.rssBytes - vmRss)).toBeLessThan(8 * 1024 * 1024);
    } finally {
      child.kill('SIGKILL');
    }
  });

  it('is null for a process that is gone or a pid that another process reuses', async () => {
    const child = spawn(process.execPath, ['-e', '0']);
    const pid = child.pid!;
    await new Promise((resolve) => child.once('exit', resolve));
    expect(readProcessUsage(pid)).toBeNull();
    expect(readProcessUsage(process.pid, 1)).toBeNull();
    expect(readProcessUsage(process.pid)).not.toBeNull();
  });
});
