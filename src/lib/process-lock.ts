import { createHash } from 'node:crypto';
import { connect, createServer, type Server } from 'node:net';
import { resolveRealPath } from './real-path.js';

/** What a lock's holder says about itself to whoever asks (the loser of a race, a status command). */
export type LockHolder = Readonly<Record<string, unknown>> & { readonly pid: number };

export type LockAttempt =
  | { readonly acquired: true; readonly lock: ProcessLock }
  | { readonly acquired: false; readonly holder: LockHolder | null };

/**
 * A lock held for the life of a process, released by the kernel when the process dies however it
 * dies: a Linux abstract-namespace unix socket (a name, no file) that only one process can bind.
 * There is no stale lock to detect or take over, so no race between two starters. The holder
 * answers a connection with a line of JSON about itself, so a loser can name the winner.
 */
export class ProcessLock {
  private constructor(
    private readonly server: Server,
    readonly address: string,
  ) {}

  /**
   * Tries once to take the lock `kind` for `dir` (e.g. 'daemon' for a data directory). `describe` is
   * what the holder tells askers; it is read on every question, so it may change (an API URL once known).
   */
  static async acquire(kind: string, dir: string, describe: () => LockHolder): Promise<LockAttempt> {
    const address = lockAddress(kind, dir);
    const server = createServer((socket) => {
      socket.on('error', () => socket.destroy());
      socket.end(`${JSON.stringify(describe())}\n`);
    });
    const bound = await new Promise<boolean>((resolve, reject) => {
      server.once('error', (error: NodeJS.ErrnoException) =>
        error.code === 'EADDRINUSE' ? resolve(false) : reject(error),
      );
      server.listen(address, () => resolve(true));
    });
    if (!bound) return { acquired: false, holder: await askHolder(address) };
    // The lock must not keep an otherwise finished process alive.
    server.unref();
    return { acquired: true, lock: new ProcessLock(server, address) };
  }

  /** Who holds the lock `kind` for `dir`, or null when nobody does (or the holder does not answer). */
  static holder(kind: string, dir: string): Promise<LockHolder | null> {
    return askHolder(lockAddress(kind, dir));
  }

  /** Whether some process holds the lock `kind` for `dir` now, asked without taking it. */
  static isHeld(kind: string, dir: string): Promise<boolean> {
    return new Promise((resolve) => {
      const socket = connect(lockAddress(kind, dir));
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
  }

  /** Lets go of the lock (the process exiting does the same). */
  release(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

/** "\0ferry-<kind>-<hash of the directory's real path>": one name per directory, whatever path leads to it. */
export function lockAddress(kind: string, dir: string): string {
  const digest = createHash('sha256').update(resolveRealPath(dir)).digest('hex').slice(0, 32);
  return `\0ferry-${kind}-${digest}`;
}

function askHolder(address: string): Promise<LockHolder | null> {
  return new Promise((resolve) => {
    let text = '';
    const socket = connect(address);
    const done = (holder: LockHolder | null): void => {
      socket.destroy();
      resolve(holder);
    };
    socket.setTimeout(2000, () => done(null));
    socket.on('error', () => done(null));
    socket.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
    socket.on('end', () => done(parseHolder(text)));
  });
}

function parseHolder(text: string): LockHolder | null {
  try {
    const value = JSON.parse(text) as unknown;
    if (typeof value === 'object' && value !== null && typeof (value as { pid?: unknown }).pid === 'number')
      return value as LockHolder;
  } catch {
    // An answer that is not ours: treat as unknown.
  }
  return null;
}
