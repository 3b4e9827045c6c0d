import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DeploymentDetailResponse, InstanceView, StatusResponse } from '../../src/api/types.js';
import { createHarness, type FerryHarness } from '../support/ferry.js';
import { waitFor } from '../support/wait.js';

const MIB = 1024 * 1024;

/**
 * An app whose memory grows when asked: GET /grow keeps 16 MiB more (written, so resident), GET
 * /healthz answers ok. It stands in for a leaking service.
 */
const GROWING_APP = `
import http from 'node:http';
const kept = [];
http.createServer((req, res) => {
  if (req.url === '/grow') kept.push(Buffer.alloc(16 * 1024 * 1024, 1));
  res.end('ok ' + kept.length + '\\n');
}).listen(Number(process.env.PORT), process.env.HOST);
`;

/** `ferry status` as `pm2 ls`: uptime, restarts, last exit, CPU and memory of each instance. */
describe('the process view of ferry status', () => {
  let ferry: FerryHarness;
  let appDir: string;

  beforeAll(async () => {
    appDir = mkdtempSync(path.join(os.tmpdir(), 'ferry-grow-'));
    const script = path.join(appDir, 'grow.mjs');
    writeFileSync(script, GROWING_APP);
    ferry = await createHarness({ instances: 1, run: `{ command: node, args: ["${script}"] }` });
    await ferry.start();
  });

  afterAll(async () => {
    await ferry?.cleanup();
    rmSync(appDir, { recursive: true, force: true });
  });

  const instance = async (): Promise<InstanceView> =>
    (await ferry.json<StatusResponse>('status', 'hello')).apps[0]!.instances[0]!;

  it('shows a running instance uptime, CPU and memory, and its memory as it grows', async () => {
    // CPU needs two samples (2 s apart): wait for it rather than for a time.
    const first = await waitFor('a CPU share', async () => {
      const i = await instance();
      return i.cpuPercent !== null && i.cpuPercent !== undefined ? i : null;
    });
    expect(first).toMatchObject({ state: 'running', restarts: 0, lastExit: null });
    expect(first.uptimeMs).toBeGreaterThanOrEqual(0);
    expect(first.cpuPercent).toBeGreaterThanOrEqual(0);
    expect(first.memoryBytes).toBeGreaterThan(5 * MIB);
    for (let n = 0; n < 4; n++) {
      const response = await fetch(`http://127.0.0.1:${ferry.appPort}/grow`);
      expect(response.ok).toBe(true);
    }
    const grown = await waitFor('the memory to grow by 64 MiB', async () => {
      const i = await instance();
      return i.memoryBytes! >= first.memoryBytes! + 60 * MIB ? i : null;
    });
    expect(grown.pid).toBe(first.pid);
    expect(grown.uptimeMs!).toBeGreaterThanOrEqual(first.uptimeMs!);
    const text = (await ferry.cli('status')).stdout;
    expect(text).toMatch(/running +healthy +up \S+ +restarts 0 +cpu \d+\.\d% +mem \d+\.\d MiB/);
  });

  it('an instance killed with -9: restarted, and status shows the restart and how it ended; the app has the events', async () => {
    const before = await instance();
    const killedAt = Date.now();
    process.kill(before.pid!, 'SIGKILL');
    const after = await waitFor('the instance to be restarted and healthy', async () => {
      const i = await instance();
      return i.restarts === 1 && i.pid !== before.pid && i.health === 'healthy' ? i : null;
    });
    expect(after.lastExit).toMatchObject({ code: null, signal: 'SIGKILL' });
    expect(after.lastExit!.at).toBeGreaterThanOrEqual(killedAt - 1_000);
    // A fresh process: its uptime counts from the restart.
    expect(after.uptimeMs!).toBeLessThan(Date.now() - killedAt + 5_000);
    const text = (await ferry.cli('status')).stdout;
    expect(text).toMatch(/restarts 1 .*last exit: signal SIGKILL at \d{4}-\d\d-\d\d \d\d:\d\d:\d\d/);

    const status = await ferry.json<StatusResponse>('status', 'hello');
    const events = (
      await ferry.json<DeploymentDetailResponse>('show', status.apps[0]!.deployment!.id)
    ).events.filter((e) => e.type === 'instance');
    expect(events.map((e) => e.message)).toEqual([
      `instance ${before.id} of 1.0.0 exited with signal SIGKILL; restart 1 in 500ms`,
      `instance ${before.id} of 1.0.0 restarted (pid ${after.pid}, restart 1)`,
    ]);

    // Kept with the instance: a daemon restart (which adopts it) still shows them.
    await ferry.kill9();
    await ferry.start();
    expect(await instance()).toMatchObject({
      pid: after.pid,
      restarts: 1,
      lastExit: { signal: 'SIGKILL' },
    });
  });
});
