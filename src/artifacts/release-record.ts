import { constants } from 'node:fs';
import { open, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ChecksumAlgorithm } from './checksum.js';
import { RELEASE_RECORD } from './archive-plan.js';

// The version validator and the name of the `current` link have one home, shared with the API.
export { assertVersionName, CURRENT_LINK } from '../lib/release-version.js';

/** What Ferry writes into a release once it is verified: its presence marks a complete release. */
export interface ReleaseRecord {
  version: string;
  /** '<algorithm>:<hex>', the algorithm the caller asked for (sha256 when none). */
  checksum: string;
  /** Every digest computed while fetching (always sha256). */
  checksums: Partial<Record<ChecksumAlgorithm, string>>;
  /** Without credentials. */
  url: string;
  bytes: number;
  installedAt: string;
}

/** The record of the release in dir, or null when there is none (not a release Ferry installed). */
export async function readReleaseRecord(dir: string): Promise<ReleaseRecord | null> {
  let text: string;
  try {
    text = await readFile(join(dir, RELEASE_RECORD), 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return null;
    throw error;
  }
  try {
    const record = JSON.parse(text) as Partial<ReleaseRecord>;
    if (typeof record.version !== 'string' || typeof record.checksum !== 'string') return null;
    return { checksums: {}, url: '', bytes: 0, installedAt: '', ...record } as ReleaseRecord;
  } catch {
    return null;
  }
}

/** Writes the record durably; refuses to follow or replace anything already at that name. */
export async function writeReleaseRecord(dir: string, record: ReleaseRecord): Promise<void> {
  const flags = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW;
  const handle = await open(join(dir, RELEASE_RECORD), flags, 0o644);
  try {
    await handle.writeFile(`${JSON.stringify(record, null, 2)}\n`);
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** fsync a directory so a rename or unlink in it survives a crash. */
export async function syncDirectory(dir: string): Promise<void> {
  const handle = await open(dir, constants.O_RDONLY | constants.O_DIRECTORY);
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
