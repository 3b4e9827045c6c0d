import { lstat } from 'node:fs/promises';
import { FerryError } from '../errors/ferry-error.js';
import { formatChecksum, type Checksum } from './checksum.js';
import { readReleaseRecord, type ReleaseRecord } from './release-record.js';

/**
 * The record of the release already installed at dir when it matches every expected checksum
 * (any release of that version when none is expected), null when dir does not exist. A release
 * there with other content is an error: releases are immutable and never touched.
 */
export async function findInstalled(
  dir: string,
  version: string,
  expected: Checksum[],
): Promise<ReleaseRecord | null> {
  try {
    await lstat(dir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
  const record = await readReleaseRecord(dir);
  if (record === null) {
    throw conflict(version, dir, 'a release Ferry installed', 'something without a valid release record');
  }
  for (const checksum of expected) {
    const recorded = record.checksums[checksum.algorithm];
    if (recorded !== checksum.hex) {
      const got =
        recorded === undefined
          ? `${record.checksum} (no ${checksum.algorithm} recorded)`
          : `${checksum.algorithm}:${recorded}`;
      throw conflict(version, dir, formatChecksum(checksum), got);
    }
  }
  return record;
}

function conflict(version: string, dir: string, expected: string, got: string): FerryError {
  return new FerryError(
    'FERRY_E_RELEASE_CONFLICT',
    `release ${version} is already installed at ${dir} and releases are immutable: expected ${expected}, got ${got}`,
    { where: dir, expected, got },
  );
}
