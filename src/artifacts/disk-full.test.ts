import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { FerryError } from '../errors/ferry-error.js';
import { installRelease } from './install.js';
import { listTree, makeTempDir } from './test-support/fs.js';
import { buildTar, gzip } from './test-support/tar.js';

let root: { path: string; remove: () => Promise<void> };
let mounted: string | null = null;
let server: Server | null = null;

beforeEach(async () => {
  root = await makeTempDir();
});

afterEach(async () => {
  await new Promise((resolve) => (server ? server.close(resolve) : resolve(undefined)));
  server = null;
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

/** Serves bytes over HTTP on loopback; resolves with the URL. */
async function serve(bytes: Buffer): Promise<string> {
  server = createServer((_req, res) => {
    res.writeHead(200, { 'content-length': bytes.length });
    res.end(bytes);
  });
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/big.tgz`;
}

// A download is kept beside the releases dir for the second pass (a file:// artifact is read in
// place twice), then unpacked: the disk can fill up in either.
it.for<[string, number, 'http' | 'file']>([
  ['while the download is kept for the second pass', 3 * 1024 * 1024, 'http'],
  ['while the release is unpacked', 2 * 1024 * 1024, 'file'],
])('a full disk %s fails with FERRY_E_DISK_FULL and leaves nothing', async ([, size, via], context) => {
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
  const url = via === 'http' ? await serve(archive) : pathToFileURL(artifact).href;
  const releasesDir = join(disk, 'releases');

  const error = await installRelease({
    releasesDir,
    version: '1.0.0',
    source: { url, checksum: `sha256:${sha256Hex(archive)}` },
  }).catch((caught: unknown) => caught);
  expect(error).toBeInstanceOf(FerryError);
  expect((error as FerryError).code).toBe('FERRY_E_DISK_FULL');
  expect((error as FerryError).message).toBe(
    `installing release 1.0.0 into ${releasesDir}: expected room for it on disk, got ENOSPC; nothing partial was left`,
  );
  expect(await listTree(disk)).toEqual(['releases']);
});

function sha256Hex(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('hex');
}
