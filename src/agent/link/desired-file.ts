import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { mkdir, open, readFile, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { syncDirectory } from '../../artifacts/release-record.js';
import { FerryError, messageOf } from '../../errors/ferry-error.js';
import { hostDesiredStateSchema, type HostDesiredState } from '../../protocol/desired-state.js';
import { messageProblems } from '../../protocol/problems.js';

/** The agent's copy of its host's last desired state, in its data directory. */
export const DESIRED_FILE = 'desired.json';

export function desiredFilePath(dataDir: string): string {
  return join(dataDir, DESIRED_FILE);
}

/** What the agent finds on disk at start: the document, or why there is none it can use. */
export interface LoadedDesiredState {
  readonly doc: HostDesiredState | null;
  /** Set when a file was there but cannot be used (not JSON, not a desired state, another host's). */
  readonly problem: string | null;
}

/**
 * Reads the last desired state the agent kept. No file: none yet. A file that is not a valid
 * desired state of this host is reported and not used (the server sends the state again); one that
 * cannot be read at all is FERRY_E_DATA_DIR.
 */
export async function loadDesiredState(dataDir: string, hostId: string): Promise<LoadedDesiredState> {
  const path = desiredFilePath(dataDir);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { doc: null, problem: null };
    throw new FerryError(
      'FERRY_E_DATA_DIR',
      `cannot read the agent's desired state at ${path}: ${messageOf(error)}`,
      { where: path },
      { cause: error },
    );
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    return { doc: null, problem: `${path}: expected JSON, got ${messageOf(error)}` };
  }
  const checked = hostDesiredStateSchema.safeParse(parsed);
  if (!checked.success)
    return { doc: null, problem: `${path}: ${messageProblems(checked.error, 'desired').join('; ')}` };
  if (checked.data.host !== hostId)
    return {
      doc: null,
      problem: `${path}: expected the desired state of host ${JSON.stringify(hostId)}, got host ${JSON.stringify(checked.data.host)}'s`,
    };
  return { doc: checked.data, problem: null };
}

/**
 * Keeps `doc` as the agent's desired state, atomically and durably: written to a temp file in the
 * same directory, flushed, renamed over the old one, and the directory flushed. After any crash
 * the file is the old document or the new one, whole. Owner-only: it may hold an app's settings.
 */
export async function saveDesiredState(dataDir: string, doc: HostDesiredState): Promise<void> {
  const path = desiredFilePath(dataDir);
  const temp = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  try {
    await mkdir(dataDir, { recursive: true, mode: 0o700 });
    const flags = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW;
    const handle = await open(temp, flags, 0o600);
    try {
      await handle.writeFile(`${JSON.stringify(doc)}\n`);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temp, path);
    await syncDirectory(dataDir);
  } catch (error) {
    await rm(temp, { force: true }).catch(() => undefined);
    const code = (error as NodeJS.ErrnoException).code;
    throw new FerryError(
      code === 'ENOSPC' ? 'FERRY_E_DISK_FULL' : 'FERRY_E_DATA_DIR',
      `cannot keep the agent's desired state at ${path}: ${messageOf(error)}`,
      { where: path },
      { cause: error },
    );
  }
}
