import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import os from 'node:os';
import { afterEach, describe, expect, it } from 'vitest';
import { HealthMonitor } from './monitor.js';
import { closeServersAfterEach, closedPort, serve, waitFor } from './test-support/servers.js';
import type { HealthSpec, HealthStatus, ProbeResult, ProbeTarget } from './types.js';

closeServersAfterEach();

const monitors: HealthMonitor[] = [];
const processes: ChildProcess[] = [];
afterEach(async () => {
  for (const monitor of monitors.splice(0)) monitor.stop();
  for (const child of processes.splice(0)) {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL');
      await once(child, 'exit');
    }
  }
});

/** A fixture app that answers 200 for its first `healthy` checks, then fails with 503 "db down". */
const SICKENS = `let n=0;require('http').createServer((q,r)=>{n++;r.statusCode=n<=+process.env.HEALTHY?200:503;r.end(n<=+process.env.HEALTHY?'ok':'db down')}).listen(+process.env.PORT,'127.0.0.1',()=>console.log('up'));`;

async function startSickening(port: number, healthy: number): Promise<void> {
  const child = spawn(process.execPath, ['-e', SICKENS], {
    env: { PATH: process.env.PATH, PORT: String(port), HEALTHY: String(healthy) },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  processes.push(child);
  await new Promise<void>((resolve, reject) => {
    child.stdout.once('data', () => resolve());
    child.once('exit', (code) => reject(new Error(`the fixture app exited with ${code}`)));
  });
}

const target = (port: number): ProbeTarget => ({ host: '127.0.0.1', port, cwd: os.tmpdir(), env: {} });
const spec = (overrides: Partial<HealthSpec> = {}): HealthSpec => ({
  check: { kind: 'http', path: '/healthz', expectStatus: [200] },
  intervalMs: 20,
  // Generous: a probe that times out on a busy machine would count as a failure the test did not cause.
  timeoutMs: 10_000,
  healthyThreshold: 2,
  unhealthyThreshold: 2,
  startPeriodMs: 0,
  ...overrides,
});

function monitor(healthSpec: HealthSpec, port: number) {
  const changes: HealthStatus[] = [];
  const results: ProbeResult[] = [];
  const m = new HealthMonitor({
    spec: healthSpec,
    target: target(port),
    startedAt: Date.now(),
    onChange: (s) => changes.push(s),
    onResult: (r) => results.push(r),
  });
  monitors.push(m);
  return { monitor: m, changes, results };
}

describe('HealthMonitor', () => {
  it('follows an app from starting to healthy, then to unhealthy when it fails its checks', async () => {
    const port = await closedPort();
    await startSickening(port, 4);
    const { monitor: m, changes } = monitor(spec(), port);
    expect(m.status).toBe('starting');
    m.start();
    await waitFor('unhealthy', () => m.status === 'unhealthy');
    expect(changes).toEqual(['healthy', 'unhealthy']);
    expect(m.lastFailure?.detail).toBe('GET /healthz -> 503 "db down"');
    expect(m.lastResult?.ok).toBe(false);
  });

  it('recovers: unhealthy -> healthy after the healthy threshold', async () => {
    let status = 500;
    const port = await serve((_request, response) => {
      response.statusCode = status;
      response.end();
    });
    const { monitor: m, changes } = monitor(spec(), port);
    m.start();
    await waitFor('unhealthy', () => m.status === 'unhealthy');
    status = 200;
    await waitFor('healthy', () => m.status === 'healthy');
    expect(changes).toEqual(['unhealthy', 'healthy']);
  });

  it('does not count failures inside the start period', async () => {
    const port = await closedPort();
    const { monitor: m, results } = monitor(spec({ startPeriodMs: 60_000, unhealthyThreshold: 1 }), port);
    m.start();
    await waitFor('several failed probes', () => results.length >= 5);
    expect(m.status).toBe('starting');
    expect(m.lastFailure?.detail).toMatch(/ECONNREFUSED/);
  });

  it('probes one at a time, the next one an interval after the previous finished', async () => {
    let inFlight = 0;
    let maxInFlight = 0;
    const finished: number[] = [];
    const arrived: number[] = [];
    const port = await serve((_request, response) => {
      arrived.push(Date.now());
      maxInFlight = Math.max(maxInFlight, ++inFlight);
      setTimeout(() => {
        inFlight--;
        finished.push(Date.now());
        response.end();
      }, 100);
    });
    const { monitor: m } = monitor(spec({ intervalMs: 50 }), port);
    m.start();
    await waitFor('four probes', () => arrived.length >= 4);
    expect(maxInFlight).toBe(1);
    for (let i = 1; i < 4; i++) expect(arrived[i]! - finished[i - 1]!).toBeGreaterThanOrEqual(40);
  });

  it('stops: a probe under way is cancelled and no result is reported after stop()', async () => {
    let arrived = 0;
    let closed = 0;
    const port = await serve((request) => {
      arrived++;
      request.socket.once('close', () => closed++);
    });
    const { monitor: m, results, changes } = monitor(spec({ timeoutMs: 60_000 }), port);
    m.start();
    await waitFor('the probe to arrive', () => arrived === 1);
    m.stop();
    m.stop();
    await waitFor('the connection to be closed by the monitor', () => closed === 1);
    expect(results).toEqual([]);
    expect(changes).toEqual([]);
    expect(() => m.start()).toThrow(/the health monitor is stopped/);
  });
});
