import { describe, expect, it } from 'vitest';
import type { InstanceView } from '../api/types.js';
import { renderInstanceLine } from './render-instances.js';

const base: InstanceView = {
  id: 'hello-1.1.0-ab12cd',
  version: '1.1.0',
  port: 40397,
  pid: 4242,
  state: 'running',
  health: 'healthy',
  lastFailure: null,
};

describe('ferry status: one instance, as pm2 ls shows a process', () => {
  it('shows uptime, restarts, CPU, memory and the last exit', () => {
    const line = renderInstanceLine({
      ...base,
      uptimeMs: 303_000,
      restarts: 2,
      lastExit: { code: null, signal: 'SIGKILL', at: Date.UTC(2026, 0, 1, 10, 41, 7) },
      cpuPercent: 0.25,
      memoryBytes: 44_144_230,
    });
    expect(line).toMatch(
      /^ {2}hello-1\.1\.0-ab12cd +1\.1\.0 +pid 4242 +port 40397 +running +healthy +up 5m3s +restarts 2 +cpu 0\.3% +mem 42\.1 MiB +last exit: signal SIGKILL at 2026-01-01 10:41:07$/,
    );
  });

  it('shows "-" for what is not known yet, and only the first columns for an older daemon', () => {
    const fresh = renderInstanceLine({
      ...base,
      uptimeMs: null,
      restarts: 0,
      lastExit: { code: 1, signal: null, at: 0 },
      cpuPercent: null,
      memoryBytes: null,
    });
    expect(fresh).toMatch(/up - +restarts 0 +cpu - +mem - +last exit: code 1 at 1970-01-01 00:00:00$/);
    expect(renderInstanceLine(base)).toMatch(/running +healthy$/);
  });
});
