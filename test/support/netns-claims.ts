import { mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { isProcessAlive, readPidStart } from '../../src/supervisor/proc.js';
import { runIproute } from './netns-ip.js';
import { waitFor } from './wait.js';

/**
 * How the fleet networks of test runs share one machine.
 *
 * Each network owns one /24 of 10.231.0.0/16, numbered 0-255 (its id, two hex digits). Its kernel
 * objects are named after the id: the bridge `fy<id>b`, host i's namespace and the root side of
 * its veth pair `fy<id>h<i>` (15 characters at most, IFNAMSIZ). Who owns an id is recorded in a
 * claim file, /run/ferry-netns/<id>, holding the creator's pid and start time: the names have no
 * room for a pid, and the claim must be atomic, which two processes creating objects are not.
 * Claims and sweeps run under one lock, an abstract Unix socket that the kernel frees when its
 * holder dies, even by SIGKILL. /run is a tmpfs: claims vanish at reboot with what they own.
 */
const CLAIMS_DIR = '/run/ferry-netns';
const LOCK_ADDRESS = '\0ferry-netns-lock';
const LOCK_TIMEOUT_MS = 60_000;
/** The private /16 the networks take their /24s from: unlikely to be in use on a test machine. */
const SUBNET_BASE = [10, 231] as const;
const OBJECT_NAME = /^fy([0-9a-f]{2})(?:b|h\d{1,3})$/;

/** One network's share of the machine: its id (the /24's third byte in hex) and that byte. */
export interface NetworkClaim {
  readonly id: string;
  readonly octet: number;
}

/** The names of one network's kernel objects. */
export function networkNames(id: string) {
  return {
    bridge: `fy${id}b`,
    /** Host i's namespace, and the root side of its veth pair (the bridge port). */
    host: (index: number) => `fy${id}h${index}`,
  };
}

/** The address `last` in a network's /24. */
export function networkAddress(claim: NetworkClaim, last: number): string {
  return [...SUBNET_BASE, claim.octet, last].join('.');
}

/** Runs `fn` holding the machine-wide lock of fleet networks (claims and sweeps). */
export async function withNetnsLock<T>(fn: () => Promise<T>): Promise<T> {
  const lock = await acquireLock();
  try {
    return await fn();
  } finally {
    await new Promise<void>((resolve) => lock.close(() => resolve()));
  }
}

async function acquireLock(): Promise<net.Server> {
  const deadline = Date.now() + LOCK_TIMEOUT_MS;
  for (;;) {
    const server = net.createServer();
    const error = await new Promise<NodeJS.ErrnoException | null>((resolve) => {
      server.once('error', resolve);
      server.listen({ path: LOCK_ADDRESS }, () => resolve(null));
    });
    if (error === null) return server;
    if (error.code !== 'EADDRINUSE') throw new Error(`cannot take the fleet network lock: ${error.message}`);
    if (Date.now() > deadline) {
      throw new Error(`the fleet network lock was held by another test run for ${LOCK_TIMEOUT_MS}ms`);
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/**
 * Claims a free /24 for this process: one no claim holds, no kernel object is named after, and no
 * route of the root namespace overlaps. Call with the lock held, after a sweep.
 */
export async function claimNetwork(): Promise<NetworkClaim> {
  mkdirSync(CLAIMS_DIR, { recursive: true, mode: 0o755 });
  const routes = await rootRoutes();
  const named = new Set((await listObjects()).map((object) => object.id));
  const pidStart = readPidStart(process.pid);
  const first = Math.floor(Math.random() * 256);
  for (let k = 0; k < 256; k++) {
    const octet = (first + k) % 256;
    const id = octet.toString(16).padStart(2, '0');
    const subnet = parseCidr(`${SUBNET_BASE.join('.')}.${octet}.0/24`)!;
    if (named.has(id) || routes.some((route) => overlaps(route, subnet))) continue;
    try {
      writeFileSync(path.join(CLAIMS_DIR, id), `${process.pid} ${pidStart}\n`, { flag: 'wx' });
      return { id, octet };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
  }
  throw new Error(`no free /24 left in ${SUBNET_BASE.join('.')}.0.0/16 for a fleet network`);
}

/** Gives a network's /24 back, once its objects are gone. */
export function releaseClaim(id: string): void {
  rmSync(path.join(CLAIMS_DIR, id), { force: true });
}

/**
 * Removes the fleet networks of earlier runs whose creator is gone (its pid dead, or reused by
 * another process), and objects no claim owns: the processes in their namespaces, the veth pairs,
 * the namespaces, the bridges, the claims. Returns the names it removed.
 */
export async function sweepStaleNetworks(): Promise<string[]> {
  return withNetnsLock(sweepLocked);
}

/** sweepStaleNetworks with the lock already held. */
export async function sweepLocked(): Promise<string[]> {
  const live = new Set<string>();
  const stale = new Set<string>();
  for (const id of listClaims()) (isClaimAlive(id) ? live : stale).add(id);
  for (const object of await listObjects()) if (!live.has(object.id)) stale.add(object.id);
  const removed: string[] = [];
  for (const id of stale) {
    removed.push(...(await removeNetworkObjects(id)));
    releaseClaim(id);
  }
  return removed;
}

function listClaims(): string[] {
  try {
    return readdirSync(CLAIMS_DIR).filter((name) => /^[0-9a-f]{2}$/.test(name));
  } catch {
    return [];
  }
}

function isClaimAlive(id: string): boolean {
  let text: string;
  try {
    text = readFileSync(path.join(CLAIMS_DIR, id), 'utf8');
  } catch {
    return false;
  }
  const [pid, start] = text.trim().split(' ').map(Number);
  return pid !== undefined && start !== undefined && isProcessAlive(pid, start);
}

/**
 * Removes every object named after network `id`: first kills the processes in its namespaces
 * (children of what the harness spawned included: a namespace outlives `ip netns del` while a
 * process is in it), then deletes the veth pairs, the namespaces and the bridge, and checks that
 * none is left. Returns the names it removed.
 */
export async function removeNetworkObjects(id: string): Promise<string[]> {
  const objects = (await listObjects()).filter((object) => object.id === id);
  const namespaces = objects.filter((object) => object.kind === 'namespace').map((object) => object.name);
  for (const namespace of namespaces) await killNamespaceProcesses(namespace);
  const { bridge } = networkNames(id);
  const links = objects.filter((object) => object.kind === 'link').map((object) => object.name);
  // The root side first: deleting it takes its peer in the namespace along at once, whereas a
  // deleted namespace's links go away later, in the kernel's own time.
  const commands = [
    ...links.filter((name) => name !== bridge).map((name) => `link del dev ${name}`),
    ...namespaces.map((name) => `netns del ${name}`),
    ...links.filter((name) => name === bridge).map((name) => `link del dev ${name}`),
  ];
  if (commands.length === 0) return [];
  const result = await runIproute('ip', ['-force', '-batch', '-'], {
    input: `${commands.join('\n')}\n`,
    allowFailure: true,
  });
  const left = (await listObjects()).filter((object) => object.id === id);
  if (left.length > 0) {
    const names = left.map((object) => `${object.kind} ${object.name}`).join(', ');
    throw new Error(`could not remove fleet network ${id}: ${names} left (${result.stderr.trim()})`);
  }
  return [...new Set(objects.map((object) => object.name))];
}

/** SIGKILLs every process in a namespace, until none is left. */
async function killNamespaceProcesses(namespace: string): Promise<void> {
  await waitFor(
    `the processes in network namespace ${namespace} to be gone`,
    async () => {
      const pids = await namespacePids(namespace);
      for (const pid of pids) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // gone already
        }
      }
      return pids.length === 0;
    },
    10_000,
    20,
  );
}

/** The pids of the processes in a namespace (a zombie is in none: it has left its namespaces). */
export async function namespacePids(namespace: string): Promise<number[]> {
  const { stdout } = await runIproute('ip', ['netns', 'pids', namespace]);
  return stdout.split('\n').filter(Boolean).map(Number);
}

interface NetworkObject {
  readonly kind: 'link' | 'namespace';
  readonly name: string;
  readonly id: string;
}

/** The links of the root namespace and the namespaces named like a fleet network's objects. */
async function listObjects(): Promise<NetworkObject[]> {
  const objects: NetworkObject[] = [];
  const add = (kind: NetworkObject['kind'], name: string | undefined) => {
    const id = name === undefined ? undefined : OBJECT_NAME.exec(name)?.[1];
    if (id !== undefined) objects.push({ kind, name: name!, id });
  };
  const links = await runIproute('ip', ['-o', 'link', 'show']);
  for (const line of links.stdout.split('\n')) add('link', /^\d+:\s+([^:@\s]+)/.exec(line)?.[1]);
  const namespaces = await runIproute('ip', ['netns', 'list']);
  for (const line of namespaces.stdout.split('\n')) add('namespace', line.split(' ')[0]);
  return objects;
}

interface Cidr {
  readonly network: number;
  readonly bits: number;
}

/** The destinations of the root namespace's IPv4 routes, every table; the default route aside. */
async function rootRoutes(): Promise<Cidr[]> {
  const { stdout } = await runIproute('ip', ['-4', '-o', 'route', 'show', 'table', 'all']);
  const routes: Cidr[] = [];
  for (const line of stdout.split('\n')) {
    // A route's type (local, broadcast, unreachable...) may come before its destination.
    const [first, second] = line.split(' ');
    const route = parseCidr(first ?? '') ?? parseCidr(second ?? '');
    if (route !== null && route.bits > 0) routes.push(route);
  }
  return routes;
}

function parseCidr(text: string): Cidr | null {
  const match = /^(\d+)\.(\d+)\.(\d+)\.(\d+)(?:\/(\d+))?$/.exec(text);
  if (match === null) return null;
  const bytes = match.slice(1, 5).map(Number);
  const bits = match[5] === undefined ? 32 : Number(match[5]);
  return { network: bytes.reduce((sum, byte) => sum * 256 + byte, 0), bits };
}

function overlaps(a: Cidr, b: Cidr): boolean {
  const bits = Math.min(a.bits, b.bits);
  const size = 2 ** (32 - bits);
  return Math.floor(a.network / size) === Math.floor(b.network / size);
}
