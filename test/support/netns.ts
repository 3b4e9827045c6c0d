import net from 'node:net';
import {
  claimNetwork,
  networkAddress,
  networkNames,
  releaseClaim,
  removeNetworkObjects,
  sweepLocked,
  withNetnsLock,
  type NetworkClaim,
} from './netns-claims.js';
import { requireNetns, runIproute } from './netns-ip.js';
import {
  execInNamespace,
  spawnInNamespace,
  type ExecResult,
  type HostProcess,
  type HostProcessOptions,
} from './netns-process.js';

export { sweepStaleNetworks } from './netns-claims.js';
export { netnsSkipReason, netnsUnavailable, requireNetns } from './netns-ip.js';
export type { ExecResult, HostProcess, HostProcessOptions, ProcessExit } from './netns-process.js';

/**
 * A fleet on one machine, for tests of a server and its agents: a Linux bridge in the root
 * namespace holding the server side's address (`.1` of the network's /24), and one network
 * namespace per host joined to it by a veth pair, with `lo` up and the address `.(10 + i)`. Every
 * host has its own ports, so each can listen on the same port, as separate machines do.
 *
 * The bridge sits in the root namespace, not in a namespace of its own, so that the test process
 * and whatever it starts there (a `ferry server`) reach every host, and are reached, with no
 * routing: one LAN, no forwarding, no NAT. The hosts reach that LAN only.
 */
export interface FleetNetwork {
  /** The network's id (two hex digits), in the names of its bridge, namespaces and links. */
  readonly id: string;
  /** The network's /24, e.g. 10.231.7.0/24. */
  readonly subnet: string;
  /** The root namespace's address on the bridge: where a server listens for the hosts. */
  readonly serverAddress: string;
  readonly bridge: string;
  readonly hosts: readonly FleetHost[];
  /**
   * Kills every process in the hosts' namespaces (what spawn() started and their children), then
   * deletes the veth pairs, the namespaces and the bridge, and gives the /24 back. Calling it
   * again waits for the first call.
   */
  close(): Promise<void>;
}

/** One host of a fleet network: a namespace with one link to the bridge. */
export interface FleetHost {
  readonly index: number;
  /** Its network namespace (`ip netns exec <namespace> ...`). */
  readonly namespace: string;
  /** The root side of its veth pair: its port on the bridge. */
  readonly link: string;
  /** Its address on the fleet's LAN. */
  readonly address: string;
  /** http://<address>:<port><path> */
  url(port: number, path?: string): string;
  /** Starts a process in the host's namespace; close() kills it if it still runs. */
  spawn(command: string, args?: readonly string[], opts?: HostProcessOptions): HostProcess;
  /** Runs a process in the host's namespace to its end (killed after timeoutMs, 30 s by default). */
  exec(
    command: string,
    args?: readonly string[],
    opts?: HostProcessOptions & { timeoutMs?: number },
  ): Promise<ExecResult>;
  /**
   * Cuts the host off, as a switch port that stops forwarding: its bridge port is disabled, so
   * every frame to or from the host is dropped. Both ends keep their carrier and addresses, and
   * nothing is reset or refused: established connections simply get no answers (TCP retransmits)
   * and new ones time out, on both sides, as in a real partition.
   */
  linkDown(): Promise<void>;
  /** Restores the link; retransmissions of established connections get through again. */
  linkUp(): Promise<void>;
  /** Whether a TCP connection from the root namespace to address:port opens within timeoutMs (1 s). */
  reachable(port: number, timeoutMs?: number): Promise<boolean>;
}

export interface FleetNetworkOptions {
  /** How many hosts (namespaces), 1 to MAX_HOSTS. */
  readonly hosts: number;
}

export const MAX_HOSTS = 200;
/** The root side's address on the bridge, and where the hosts' addresses start. */
const SERVER_LAST_BYTE = 1;
const FIRST_HOST_BYTE = 10;

/**
 * Creates a fleet network (see FleetNetwork), after sweeping away the leftovers of earlier runs
 * whose creator is gone. Needs root and iproute2: throws saying so otherwise.
 */
export async function createFleetNetwork(opts: FleetNetworkOptions): Promise<FleetNetwork> {
  requireNetns();
  if (!Number.isInteger(opts.hosts) || opts.hosts < 1 || opts.hosts > MAX_HOSTS) {
    throw new Error(`createFleetNetwork: hosts must be an integer from 1 to ${MAX_HOSTS}, got ${opts.hosts}`);
  }
  const claim = await withNetnsLock(async () => {
    await sweepLocked();
    return claimNetwork();
  });
  try {
    await buildNetwork(claim, opts.hosts);
  } catch (error) {
    await removeNetworkObjects(claim.id).catch(() => undefined);
    releaseClaim(claim.id);
    throw error;
  }
  return openNetwork(claim, opts.hosts);
}

/** The bridge, then every namespace with its veth pair: one `ip -batch` for the root namespace, one per host. */
async function buildNetwork(claim: NetworkClaim, hosts: number): Promise<void> {
  const names = networkNames(claim.id);
  const indexes = Array.from({ length: hosts }, (_, index) => index);
  const root = [
    ...indexes.map((index) => `netns add ${names.host(index)}`),
    `link add name ${names.bridge} type bridge`,
    // A fixed address: a bridge otherwise takes its lowest port's, which changes as ports come and go.
    `link set dev ${names.bridge} address 02:66:79:e7:${claim.id}:01`,
    `addr add ${networkAddress(claim, SERVER_LAST_BYTE)}/24 dev ${names.bridge}`,
    `link set dev ${names.bridge} up`,
    ...indexes.flatMap((index) => [
      `link add name ${names.host(index)} type veth peer name eth0 netns ${names.host(index)}`,
      `link set dev ${names.host(index)} master ${names.bridge}`,
      `link set dev ${names.host(index)} up`,
    ]),
  ];
  await runIproute('ip', ['-batch', '-'], { input: `${root.join('\n')}\n` });
  await Promise.all(
    indexes.map((index) => {
      const inside = [
        'link set dev lo up',
        `addr add ${networkAddress(claim, FIRST_HOST_BYTE + index)}/24 dev eth0`,
        'link set dev eth0 up',
      ];
      return runIproute('ip', ['-n', names.host(index), '-batch', '-'], { input: `${inside.join('\n')}\n` });
    }),
  );
}

function openNetwork(claim: NetworkClaim, count: number): FleetNetwork {
  const names = networkNames(claim.id);
  const spawned = new Set<HostProcess>();
  let closing: Promise<void> | null = null;
  const checkOpen = (what: string) => {
    if (closing !== null) throw new Error(`fleet network ${claim.id} is closed: cannot ${what}`);
  };
  const host = (index: number): FleetHost => {
    const namespace = names.host(index);
    const address = networkAddress(claim, FIRST_HOST_BYTE + index);
    const setPortState = async (state: 'disabled' | 'forwarding') => {
      checkOpen(`set ${namespace}'s link ${state}`);
      await runIproute('bridge', [
        'link',
        'set',
        'dev',
        namespace,
        'state',
        state === 'disabled' ? '0' : '3',
      ]);
      // iproute2 accepts some bridge port settings it then ignores: check the state took.
      const { stdout } = await runIproute('bridge', ['link', 'show', 'dev', namespace]);
      if (!stdout.includes(`state ${state}`)) {
        throw new Error(`the bridge port of ${namespace} did not become ${state}: ${stdout.trim()}`);
      }
    };
    return {
      index,
      namespace,
      link: namespace,
      address,
      url: (port, path = '/') => `http://${address}:${port}${path}`,
      spawn(command, args = [], opts = {}) {
        checkOpen(`spawn ${command} in ${namespace}`);
        const run = spawnInNamespace(namespace, command, args, opts);
        spawned.add(run);
        void run.exited.then(() => spawned.delete(run));
        return run;
      },
      async exec(command, args = [], opts = {}) {
        checkOpen(`run ${command} in ${namespace}`);
        return execInNamespace(namespace, command, args, opts);
      },
      linkDown: () => setPortState('disabled'),
      linkUp: () => setPortState('forwarding'),
      reachable: (port, timeoutMs = 1_000) => canConnect(address, port, timeoutMs),
    };
  };
  return {
    id: claim.id,
    subnet: `${networkAddress(claim, 0)}/24`,
    serverAddress: networkAddress(claim, SERVER_LAST_BYTE),
    bridge: names.bridge,
    hosts: Array.from({ length: count }, (_, index) => host(index)),
    close() {
      closing ??= (async () => {
        // One still between its fork and `ip netns exec`'s setns is in no namespace yet.
        for (const run of spawned) run.child.kill('SIGKILL');
        await removeNetworkObjects(claim.id);
        await Promise.all([...spawned].map((run) => run.exited));
        releaseClaim(claim.id);
      })();
      return closing;
    },
  };
}

/** Whether a TCP connection to host:port opens within timeoutMs. */
function canConnect(host: string, port: number, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    const done = (result: boolean) => {
      socket.destroy();
      resolve(result);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}
