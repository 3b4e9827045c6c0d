import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../../../../test/support/ferry.js';
import { requireProgram } from '../../../lib/test-support/required-program.js';

/** A real etcd (Debian's etcd-server) on loopback ports, for one test file. */
export interface EtcdServer {
  /** host:port of its client endpoint. */
  readonly endpoint: string;
  /** The store URL of a Ferry installation with key prefix `prefix` (e.g. '/t1') on this etcd. */
  url(prefix: string): string;
  /** Freezes etcd (SIGSTOP): its connections stay open and nothing answers, as a hung host. */
  freeze(): void;
  /** Lets a frozen etcd run again (SIGCONT). */
  thaw(): void;
  /** Stops etcd (SIGTERM), keeping its data and ports for start(). */
  halt(): Promise<void>;
  /** Starts a halted etcd again on the same ports and data, and waits until it answers. */
  start(): Promise<void>;
  /** Stops it and deletes its data directory. Stopping twice is harmless. */
  stop(): Promise<void>;
}

/** How long etcd gets to answer its health check, and to exit once asked. */
const START_TIMEOUT_MS = 30_000;
const STOP_TIMEOUT_MS = 10_000;
/** Ports are picked free and then bound by etcd: another process may take one in between. */
const START_ATTEMPTS = 3;

/**
 * Starts etcd with a fresh data directory (in /dev/shm when there is one: the tests measure Ferry,
 * not the disk's fsync) and waits until it answers. Its heartbeat and election timeout make its
 * minimum lease TTL one second (etcd's is 1.5 x the election timeout, rounded up to seconds).
 */
export async function startEtcdServer(): Promise<EtcdServer> {
  requireProgram('etcd');
  let lastError: unknown;
  for (let attempt = 1; attempt <= START_ATTEMPTS; attempt++) {
    const base = existsSync('/dev/shm') ? '/dev/shm' : tmpdir();
    const dataDir = mkdtempSync(join(base, 'ferry-etcd-'));
    const ports = { client: await freePort(), peer: await freePort() };
    try {
      let child = await launch(dataDir, ports);
      let removed = false;
      return {
        endpoint: `127.0.0.1:${ports.client}`,
        url: (prefix) => `etcd://127.0.0.1:${ports.client}${prefix}`,
        freeze: () => void child.kill('SIGSTOP'),
        thaw: () => void child.kill('SIGCONT'),
        halt: () => terminate(child),
        start: async () => {
          child = await launch(dataDir, ports);
        },
        stop: async () => {
          await terminate(child);
          if (!removed) rmSync(dataDir, { recursive: true, force: true });
          removed = true;
        },
      };
    } catch (error) {
      rmSync(dataDir, { recursive: true, force: true });
      lastError = error;
    }
  }
  throw lastError;
}

async function launch(dataDir: string, ports: { client: number; peer: number }): Promise<ChildProcess> {
  const client = `http://127.0.0.1:${ports.client}`;
  const peer = `http://127.0.0.1:${ports.peer}`;
  const child = spawn(
    'etcd',
    [
      '--name=ferry-test',
      `--data-dir=${join(dataDir, 'data')}`,
      `--listen-client-urls=${client}`,
      `--advertise-client-urls=${client}`,
      `--listen-peer-urls=${peer}`,
      `--initial-advertise-peer-urls=${peer}`,
      `--initial-cluster=ferry-test=${peer}`,
      '--heartbeat-interval=50',
      '--election-timeout=500',
      '--logger=zap',
      '--log-level=error',
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderr = '';
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
    stderr = (stderr + chunk).slice(-4_000);
  });
  try {
    await waitUntilHealthy(client, child, () => stderr);
  } catch (error) {
    await terminate(child);
    throw error;
  }
  return child;
}

async function waitUntilHealthy(client: string, child: ChildProcess, stderr: () => string): Promise<void> {
  const deadline = Date.now() + START_TIMEOUT_MS;
  for (;;) {
    if (hasExited(child)) {
      throw new Error(`etcd exited at start (${child.exitCode ?? child.signalCode}): ${stderr()}`);
    }
    try {
      const response = await fetch(`${client}/health`, { signal: AbortSignal.timeout(2_000) });
      const body = (await response.json()) as { health?: unknown };
      if (body.health === 'true') return;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      throw new Error(`etcd did not become healthy within ${START_TIMEOUT_MS}ms: ${stderr()}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

function hasExited(child: ChildProcess): boolean {
  return child.exitCode !== null || child.signalCode !== null;
}

/** SIGTERM, then SIGKILL if it is still there after STOP_TIMEOUT_MS. */
async function terminate(child: ChildProcess): Promise<void> {
  if (hasExited(child)) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGCONT');
  child.kill('SIGTERM');
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(true), STOP_TIMEOUT_MS);
  });
  const stuck = await Promise.race([exited.then(() => false), timedOut]);
  clearTimeout(timer);
  if (stuck) {
    child.kill('SIGKILL');
    await exited;
  }
}
