import { chmodSync, mkdirSync, readFileSync, writeFileSync, renameSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import path from 'node:path';

/**
 * How a local CLI finds the daemon without flags: daemon.json (pid and API address) and api-token
 * (owner-only) in the data directory. The token is created on the daemon's first start.
 */
export interface DaemonInfo {
  readonly pid: number;
  readonly url: string;
  readonly startedAt: number;
  readonly version: string;
  /** The API's certificate (PEM file) when it serves HTTPS: the local CLI trusts it. */
  readonly certFile?: string;
}

export function readDaemonInfo(home: string): DaemonInfo | undefined {
  try {
    return JSON.parse(readFileSync(path.join(home, 'daemon.json'), 'utf8')) as DaemonInfo;
  } catch {
    return undefined;
  }
}

export function writeDaemonInfo(home: string, info: DaemonInfo): void {
  const file = path.join(home, 'daemon.json');
  writeFileSync(`${file}.tmp`, JSON.stringify(info, null, 2), { mode: 0o600 });
  renameSync(`${file}.tmp`, file);
}

export function readToken(home: string): string | undefined {
  try {
    return readFileSync(path.join(home, 'api-token'), 'utf8').trim() || undefined;
  } catch {
    return undefined;
  }
}

/** Returns the token, creating it (0600, in a 0700 directory) on first use. */
export function ensureToken(home: string): string {
  const existing = readToken(home);
  if (existing) return existing;
  mkdirSync(home, { recursive: true, mode: 0o700 });
  const token = randomBytes(24).toString('base64url');
  const file = path.join(home, 'api-token');
  writeFileSync(file, `${token}\n`, { mode: 0o600, flag: 'wx' });
  chmodSync(file, 0o600);
  return token;
}
