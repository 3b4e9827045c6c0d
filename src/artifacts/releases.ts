import { randomBytes } from 'node:crypto';
import { readdir, readlink, rename, rm, symlink, unlink } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { FerryError } from '../errors/ferry-error.js';
import { assertVersionName, CURRENT_LINK, readReleaseRecord, syncDirectory } from './release-record.js';

/**
 * Points releasesDir/current at releasesDir/<version>, atomically: a symlink made under a temp
 * name is renamed over the old one, so `current` is never missing or half-written.
 */
export async function activateRelease(releasesDir: string, version: string): Promise<void> {
  assertVersionName(version);
  if ((await readReleaseRecord(join(releasesDir, version))) === null) {
    throw new FerryError(
      'FERRY_E_RELEASE_UNKNOWN',
      `activating release ${version}: expected an installed release at ${join(releasesDir, version)}, got none`,
      { where: join(releasesDir, version), expected: 'an installed release' },
    );
  }
  const temp = join(releasesDir, `.${CURRENT_LINK}-${randomBytes(6).toString('hex')}`);
  // Relative, so the releases directory can be moved or mounted elsewhere.
  await symlink(version, temp);
  try {
    await rename(temp, join(releasesDir, CURRENT_LINK));
  } catch (error) {
    await unlink(temp).catch(() => undefined);
    throw new FerryError(
      'FERRY_E_ILLEGAL_STATE',
      `activating release ${version}: expected ${join(releasesDir, CURRENT_LINK)} to be a symlink or absent, got something rename cannot replace`,
      { where: join(releasesDir, CURRENT_LINK) },
      { cause: error },
    );
  }
  await syncDirectory(releasesDir);
}

/** The version releasesDir/current points at, or null when there is no such link into releasesDir. */
export async function currentRelease(releasesDir: string): Promise<string | null> {
  let target: string;
  try {
    target = await readlink(join(releasesDir, CURRENT_LINK));
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'EINVAL') return null;
    throw error;
  }
  const resolved = resolve(releasesDir, target);
  return dirname(resolved) === resolve(releasesDir) ? basename(resolved) : null;
}

/** The installed releases (directories with a release record), oldest install first. */
export async function listReleases(releasesDir: string): Promise<string[]> {
  let entries;
  try {
    entries = await readdir(releasesDir, { withFileTypes: true });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
  const releases: { version: string; installedAt: string }[] = [];
  for (const entry of entries) {
    if (!entry.isDirectory() || entry.name.startsWith('.') || entry.name === CURRENT_LINK) continue;
    const record = await readReleaseRecord(join(releasesDir, entry.name));
    if (record !== null) releases.push({ version: entry.name, installedAt: record.installedAt });
  }
  releases.sort((a, b) => a.installedAt.localeCompare(b.installedAt) || a.version.localeCompare(b.version));
  return releases.map((release) => release.version);
}

/**
 * Removes the oldest releases beyond the newest `keep`, never one named in protect (the running
 * one, the last good one) nor the one `current` points at. Returns the removed versions.
 */
export async function pruneReleases(
  releasesDir: string,
  options: { keep: number; protect: string[] },
): Promise<string[]> {
  if (!Number.isSafeInteger(options.keep) || options.keep < 0) {
    throw new FerryError(
      'FERRY_E_USAGE',
      `prune keep: expected an integer >= 0, got ${String(options.keep)}`,
      {
        where: 'keep',
      },
    );
  }
  const protectedVersions = new Set(options.protect);
  const current = await currentRelease(releasesDir);
  if (current !== null) protectedVersions.add(current);

  const newestFirst = (await listReleases(releasesDir)).reverse();
  const doomed = newestFirst.slice(options.keep).filter((version) => !protectedVersions.has(version));
  for (const version of doomed.reverse()) {
    // Out of sight first (one rename), so a half-deleted release is never taken for a release.
    const trash = join(releasesDir, `.trash-${version}-${randomBytes(6).toString('hex')}`);
    await rename(join(releasesDir, version), trash);
    await rm(trash, { recursive: true, force: true });
  }
  await removeLeftoverTrash(releasesDir);
  return doomed;
}

/** A prune interrupted by a crash leaves .trash-* directories; nothing else refers to them. */
async function removeLeftoverTrash(releasesDir: string): Promise<void> {
  for (const name of await readdir(releasesDir).catch(() => [] as string[])) {
    if (name.startsWith('.trash-')) await rm(join(releasesDir, name), { recursive: true, force: true });
  }
}
