import { chmodSync, mkdirSync, readFileSync, writeFileSync, renameSync } from 'node:fs';
import path from 'node:path';
import { FerryError } from '../errors/ferry-error.js';

/**
 * How a local CLI finds the daemon without flags: daemon.json (pid and API address) and api-token
 * (owner-only) in the data directory. The token is created on the daemon's first start.
 */
export interface DaemonInfo {
  readonly pid: number;
  /**
   * The daemon's start time (/proc/<pid>/stat field 22), so that a pid reused by another process is
   * never taken for the daemon; null in a daemon.json written by an older Ferry.
   */
  readonly pidStart: number | null;
  readonly url: string;
  readonly startedAt: number;
  readonly version: string;
  /** The API's certificate (PEM file) when it serves HTTPS: the local CLI trusts it. */
  readonly certFile?: string;
}

export function readDaemonInfo(home: string): DaemonInfo | undefined {
  try {
    const info = JSON.parse(readFileSync(path.join(home, 'daemon.json'), 'utf8')) as Partial<DaemonInfo>;
    if (typeof info.pid !== 'number' || typeof info.url !== 'string') return undefined;
    return {
      pid: info.pid,
      pidStart: typeof info.pidStart === 'number' ? info.pidStart : null,
      url: info.url,
      startedAt: typeof info.startedAt === 'number' ? info.startedAt : 0,
      version: typeof info.version === 'string' ? info.version : 'unknown',
      ...(typeof info.certFile === 'string' ? { certFile: info.certFile } : {}),
    };
  } catch {
    return undefined;
  }
}

export function writeDaemonInfo(home: string, info: DaemonInfo): void {
  const file = path.join(home, 'daemon.json');
  writeFileSync(`${file}.tmp`, JSON.stringify(info, null, 2), { mode: 0o600 });
  renameSync(`${file}.tmp`, file);
}

/** The CLI's view: the token, or undefined when there is none to use. */
export function readToken(home: string): string | undefined {
  try {
    return readFileSync(path.join(home, 'api-token'), 'utf8').trim() || undefined;
  } catch {
    return undefined;
  }
}

/**
 * The daemon's view of api-token: the token; undefined when the file does not exist yet.
 * FERRY_E_TOKEN_FILE when it exists but is empty or unreadable: a new token would silently lock
 * out every client holding the old one, so the daemon refuses and says how to fix it.
 */
export function readTokenFile(home: string): string | undefined {
  const file = path.join(home, 'api-token');
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return undefined;
    throw new FerryError(
      'FERRY_E_TOKEN_FILE',
      `the API token file ${file} cannot be read (${code ?? 'unknown error'}): expected a file the daemon's user can read; fix its owner and permissions (0600), or delete it and Ferry creates a new token at start (clients must then use the new one)`,
      { where: file, expected: 'a readable file', got: code },
      { cause: error },
    );
  }
  const token = text.trim();
  if (token) return token;
  throw new FerryError(
    'FERRY_E_TOKEN_FILE',
    `the API token file ${file} is empty${text.length > 0 ? ' (only whitespace)' : ''}: expected a token. Put one in it (e.g. head -c 24 /dev/urandom | base64 > ${file}) or delete it and Ferry creates a new one at start (clients must then use the new token)`,
    { where: file, expected: 'a token', got: 'an empty file' },
  );
}

/** Creates a new token (0600, in a 0700 directory); fails if the file appeared meanwhile. */
export function createToken(home: string): string {
  mkdirSync(home, { recursive: true, mode: 0o700 });
  // Web Crypto's CSPRNG: node:crypto would be loaded by every CLI command that reads daemon.json.
  const token = Buffer.from(crypto.getRandomValues(new Uint8Array(24))).toString('base64url');
  const file = path.join(home, 'api-token');
  writeFileSync(file, `${token}\n`, { mode: 0o600, flag: 'wx' });
  chmodSync(file, 0o600);
  return token;
}
