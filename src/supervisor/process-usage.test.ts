import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { readPidStart } from './proc.js';
import { readProcessUsage } from './process-usage.js';

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
