import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { FerryError } from '../errors/ferry-error.js';
import { installRelease } from './install.js';
import { listTree, makeTempDir } from './test-support/fs.js';
import { buildTar, gzip } from './test-support/tar.js';

let root: { path: string; remove: () => Promise<void> };
let mounted: string | null = null;

beforeEach(async () => {
  root = await makeTempDir();
});

afterEach(async () => {
  if (mounted !== null) execFileSync('umount', [mounted]);
  mounted = null;
  await root.remove();
});

/** A 1 MiB tmpfs: a real ENOSPC. Needs root (mount); skipped elsewhere, except under CI. */
function mountSmallDisk(path: string): boolean {
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', path], { stdio: 'ignore' });
    mounted = path;
    return true;
  } catch {
    return false;
  }
}

// The decompressed archive is spooled beside the releases dir, then unpacked: the disk can fill up
// in either pass.
it.for<[string, number]>([
  ['while the verified archive is spooled', 3 * 1024 * 1024],
  ['while the release is unpacked', 600 * 1024],
])('a full disk %s fails with FERRY_E_DISK_FULL and leaves nothing', async ([, size], context) => {
  const disk = join(root.path, 'small-disk');
  await mkdir(disk);
  if (!mountSmallDisk(disk)) {
    // Mounting a tmpfs needs root; CI runs as root, so there a failed mount is a failure.
    if (process.env.CI === 'true') throw new Error('mount -t tmpfs failed: the disk-full test needs root');
    context.skip();
  }

  const archive = gzip(
    buildTar([
      { path: 'fits', body: 'x' },
      { path: 'too-big.bin', body: randomBytes(size) },
    ]),
  );
  const artifact = join(root.path, 'big.tgz');
  await writeFile(artifact, archive);
  const releasesDir = join(disk, 'releases');

  const error = await installRelease({
    releasesDir,
    version: '1.0.0',
    source: { url: pathToFileURL(artifact).href },
  }).catch((caught: unknown) => caught);
  expect(error).toBeInstanceOf(FerryError);
  expect((error as FerryError).code).toBe('FERRY_E_DISK_FULL');
  expect((error as FerryError).message).toBe(
    `installing release 1.0.0 into ${releasesDir}: expected room for it on disk, got ENOSPC; nothing partial was left`,
  );
  expect(await listTree(disk)).toEqual(['releases']);
});
