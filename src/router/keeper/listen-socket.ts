import { lookup } from 'node:dns/promises';
import net from 'node:net';
import { getSystemErrorName } from 'node:util';
import { FerryError } from '../../errors/ferry-error.js';
import type { ListenAddress } from '../types.js';

/**
 * A TCP socket handle as libuv holds it. Sent to a worker over IPC, it arrives as the same kind of
 * object there, which `server.listen(handle)` accepts.
 */
export interface SocketHandle {
  close(callback?: () => void): void;
}

type CreateServerHandle = (
  address: string,
  port: number,
  addressType: 4 | 6,
  fd?: number,
  flags?: number,
) => SocketHandle | number;

// The call node's own cluster primary makes to hold a listening socket that its workers accept on
// while it never accepts itself; it is not in the typings, so it is looked up once and checked.
const createServerHandle = (net as unknown as { _createServerHandle?: CreateServerHandle })
  ._createServerHandle;

/**
 * One route's listening socket as the keeper holds it: bound to the route's address, put in the
 * listening state by the first worker that accepts on it, and kept open by the keeper for as long
 * as the route exists, so the kernel queues connections while no worker runs.
 */
export class ListenSocket {
  /** Changes when the socket does: a worker that has this id already holds the handle. */
  readonly id = `${process.pid}-${++nextId}`;
  private closed = false;

  constructor(
    readonly address: ListenAddress,
    readonly handle: SocketHandle,
  ) {}

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.handle.close();
  }
}

let nextId = 0;

/** Binds a socket on the route's address; a taken port fails with FERRY_E_PORT_IN_USE naming it. */
export async function bindListenSocket(address: ListenAddress): Promise<ListenSocket> {
  if (createServerHandle === undefined) {
    throw new FerryError(
      'FERRY_E_INTERNAL',
      `this Node.js (${process.version}) has no net._createServerHandle; the router cannot hold sockets`,
    );
  }
  const where = `${address.host}:${address.port}`;
  const ip = await resolveHost(address.host, where);
  // Binding succeeds even where another process listens (SO_REUSEADDR): only listen() would fail,
  // and that happens in a worker. A listen of a moment, right here, finds the conflict first.
  await probeFree(ip.address, address.port, where);
  const handle = createServerHandle(ip.address, address.port, ip.family);
  if (typeof handle === 'number') throw bindError(where, handle);
  return new ListenSocket(address, handle);
}

function probeFree(host: string, port: number, where: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const probe = net.createServer((socket) => socket.destroy());
    probe.once('error', (error: NodeJS.ErrnoException) =>
      reject(error.code === 'EADDRINUSE' ? portInUse(where) : bindError(where, error.errno ?? 0, error.code)),
    );
    probe.listen({ host, port, exclusive: true, backlog: 1 }, () => probe.close(() => resolve()));
  });
}

async function resolveHost(host: string, where: string): Promise<{ address: string; family: 4 | 6 }> {
  const family = net.isIP(host);
  if (family === 4 || family === 6) return { address: host, family };
  try {
    const found = await lookup(host);
    return { address: found.address, family: found.family === 6 ? 6 : 4 };
  } catch (error) {
    throw new FerryError(
      'FERRY_E_USAGE',
      `listen address ${where}: expected a host name this host can resolve, got ${(error as Error).message}`,
      { where },
      { cause: error },
    );
  }
}

function portInUse(where: string): FerryError {
  return new FerryError(
    'FERRY_E_PORT_IN_USE',
    `listen address ${where}: expected a free port, got one already in use by another process`,
    { where, expected: 'a free port', got: 'in use' },
  );
}

function bindError(where: string, errno: number, name?: string): FerryError {
  const code = name ?? getSystemErrorName(errno);
  if (code === 'EADDRINUSE') return portInUse(where);
  return new FerryError(
    'FERRY_E_USAGE',
    `listen address ${where}: expected an address this host can listen on, got ${code}`,
    { where, got: code },
  );
}
