import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { RouterClient } from '../client.js';
import type { BackendSpec, RouteSpec } from '../types.js';
import type { TestBackend } from './backends.js';

export interface RouterUnderTest {
  stateDir: string;
  client: RouterClient;
  pid: number;
  /** Stops the router and removes its state directory. */
  cleanup(): Promise<void>;
}

/** Starts a real router process (from the sources) on a fresh temp state directory. */
export async function startRouter(opts: { workers?: number } = {}): Promise<RouterUnderTest> {
  const stateDir = mkdtempSync(join(tmpdir(), 'ferry-router-'));
  const client = new RouterClient({
    stateDir,
    ...(opts.workers !== undefined ? { workers: opts.workers } : {}),
  });
  const { pid } = await client.ensureRunning();
  return {
    stateDir,
    client,
    pid,
    cleanup: async () => {
      await client.stop().catch(() => undefined);
      rmSync(stateDir, { recursive: true, force: true });
    },
  };
}

/** A port that was free a moment ago (the router listens on it next). */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

export function backendSpec(
  backend: Pick<TestBackend, 'name' | 'port'>,
  release: string,
  weight = 1,
  healthy = true,
): BackendSpec {
  return { id: backend.name, release, host: '127.0.0.1', port: backend.port, weight, healthy };
}

export function routeSpec(
  name: string,
  port: number,
  backends: BackendSpec[],
  holdTimeoutMs?: number,
  /** The app's router settings (timeouts, limits, trusted proxies). */
  settings: Omit<Partial<RouteSpec>, 'name' | 'listen' | 'backends'> = {},
): RouteSpec {
  const spec: RouteSpec = { name, listen: { host: '127.0.0.1', port }, backends, ...settings };
  if (holdTimeoutMs !== undefined) spec.holdTimeoutMs = holdTimeoutMs;
  return spec;
}

/** Polls a condition until it holds; throws with the description after the deadline. */
export async function waitFor(
  description: string,
  condition: () => boolean | Promise<boolean>,
  timeoutMs = 10_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs}ms waiting for ${description}`);
    await delay(20);
  }
}
