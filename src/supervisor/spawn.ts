import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, mkdirSync, openSync, statSync } from 'node:fs';
import path from 'node:path';
import { FerryError, messageOf } from '../errors/ferry-error.js';
import { accountSpawnOptions, type RunAccount } from './account.js';
import { ownerMarker } from './markers.js';
import { readPidStart } from './proc.js';
import { RUN_DIGEST_VAR, runDigest } from './run-digest.js';
import type { InstanceSpec } from './types.js';

/** The only variables of the daemon's own environment an app's processes inherit. */
export const BASE_VARS: readonly string[] = [
  'PATH',
  'HOME',
  'USER',
  'LOGNAME',
  'SHELL',
  'LANG',
  'LC_ALL',
  'LC_CTYPE',
  'TZ',
  'TMPDIR',
];

/**
 * The clean base environment of every process Ferry runs for an app (instances, hooks, command
 * checks): PATH, HOME, LANG and a few others from the daemon, never its whole environment, which may
 * hold cloud keys. A process running as another account gets that account's HOME, USER and LOGNAME.
 */
export function baseEnvironment(
  account: RunAccount | null = null,
  base: NodeJS.ProcessEnv = process.env,
): Record<string, string> {
  const vars: Record<string, string> = {};
  for (const name of BASE_VARS) {
    const value = base[name];
    if (value !== undefined) vars[name] = value;
  }
  if (account) Object.assign(vars, { HOME: account.home, USER: account.name, LOGNAME: account.name });
  return vars;
}

/** The environment of an instance: a clean base, the app's variables, then Ferry's own. */
export function instanceEnvironment(
  spec: InstanceSpec,
  ferryHome: string,
  base: NodeJS.ProcessEnv = process.env,
): Record<string, string> {
  return {
    ...baseEnvironment(spec.account ?? null, base),
    ...spec.envVars,
    PORT: String(spec.port),
    FERRY_APP: spec.app,
    FERRY_ENV: spec.env,
    FERRY_VERSION: spec.version,
    // How it was run: a daemon that restarts under a changed ferry.yaml replaces what differs.
    [RUN_DIGEST_VAR]: runDigest(spec),
    // The markers by which a restarted daemon finds its instances (and orphans) in /proc. The
    // owner is opaque: FERRY_HOME would tell the app where the daemon's API token is.
    FERRY_INSTANCE_ID: spec.id,
    FERRY_OWNER: ownerMarker(ferryHome),
  };
}

export interface SpawnedInstance {
  readonly child: ChildProcess;
  readonly pid: number;
  readonly pidStart: number;
}

/**
 * Spawns an instance so that it outlives the daemon: its own session and process group, output
 * straight to its log file (no pipe the daemon's death would break), and unreferenced.
 */
export async function spawnInstance(spec: InstanceSpec, ferryHome: string): Promise<SpawnedInstance> {
  assertDirectory(spec);
  const log = openLog(spec);
  let child: ChildProcess;
  try {
    child = spawn(spec.command, [...spec.args], {
      cwd: spec.cwd,
      env: instanceEnvironment(spec, ferryHome),
      ...accountSpawnOptions(spec.account),
      detached: true,
      stdio: ['ignore', log, log],
    });
  } catch (error) {
    throw startError(spec, error);
  } finally {
    closeSync(log);
  }
  const pid = child.pid;
  if (pid === undefined) {
    // exec failed (command not found, not executable): Node reports it in an 'error' event.
    const error = await new Promise<unknown>((resolve) => child.once('error', resolve));
    throw startError(spec, error);
  }
  child.once('error', () => undefined);
  // Read before returning to the event loop: until then Node cannot reap the child, so even a
  // process that died at once still has its /proc entry.
  const pidStart = readPidStart(pid);
  child.unref();
  if (pidStart === null) {
    // Without a start time the process could never be told apart from a reused pid: do not keep it.
    process.kill(-pid, 'SIGKILL');
    throw startError(spec, new Error(`/proc/${pid}/stat is not readable`));
  }
  return { child, pid, pidStart };
}

function openLog(spec: InstanceSpec): number {
  try {
    mkdirSync(path.dirname(spec.logFile), { recursive: true });
    // 'a' is O_APPEND: the child's writes land at the end even after copytruncate rotation.
    return openSync(spec.logFile, 'a', 0o640);
  } catch (error) {
    throw new FerryError(
      'FERRY_E_PROCESS_START',
      `instance ${spec.id} cannot start: expected to open its log file ${spec.logFile} for writing, got ${messageOf(error)}`,
      { where: spec.logFile, expected: 'a writable log file', got: messageOf(error), instance: spec.id },
      { cause: error },
    );
  }
}

function assertDirectory(spec: InstanceSpec): void {
  let isDirectory = false;
  try {
    isDirectory = statSync(spec.cwd).isDirectory();
  } catch {
    // reported below
  }
  if (!isDirectory) {
    throw new FerryError(
      'FERRY_E_PROCESS_START',
      `instance ${spec.id} cannot start: expected its release directory ${spec.cwd} to exist, got nothing there`,
      { where: spec.cwd, expected: 'a directory', got: 'nothing', instance: spec.id },
    );
  }
}

function startError(spec: InstanceSpec, error: unknown): FerryError {
  const code = (error as NodeJS.ErrnoException).code;
  const got = code === 'ENOENT' ? 'not found' : code === 'EACCES' ? 'not executable' : messageOf(error);
  return new FerryError(
    'FERRY_E_PROCESS_START',
    `instance ${spec.id} cannot start: expected ${JSON.stringify(spec.command)} to be an executable command (in ${spec.cwd} or on PATH), got ${got}`,
    { where: spec.cwd, expected: 'an executable command', got, command: spec.command, instance: spec.id },
    { cause: error },
  );
}
