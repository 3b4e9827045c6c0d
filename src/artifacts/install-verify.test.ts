import { renameSync, writeFileSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { installRelease } from './install.js';
import { listTree, watchDir } from './test-support/fs.js';
import { sha256 } from './test-support/harness.js';
import { useSandbox } from './test-support/sandbox.js';
import { buildTar, gzip, type RawEntry } from './test-support/tar.js';
import type { InstallReleaseOptions } from './types.js';

const sandbox = useSandbox();

function serveBytes(data: Buffer) {
  return sandbox.serve((_request, response) => {
    response.writeHead(200, { 'content-length': data.length });
    response.end(data);
  });
}

/** Installs with a watch on releasesDir; resolves with the outcome and every name that appeared there. */
async function installWatched(extra: Partial<InstallReleaseOptions> & Pick<InstallReleaseOptions, 'source'>) {
  const releasesDir = join(sandbox.root, 'releases');
  await mkdir(releasesDir, { recursive: true });
  const watcher = watchDir(releasesDir);
  const startedAt = performance.now();
  const outcome = await installRelease({ releasesDir, version: '1.0.0', retryWaitMs: 5, ...extra }).then(
    (release) => ({ release, error: undefined }),
    (error: unknown) => ({ release: undefined, error }),
  );
  return { ...outcome, ms: performance.now() - startedAt, written: await watcher.namesSeen(), releasesDir };
}

const tinyFiles = (count: number): RawEntry[] =>
  Array.from({ length: count }, (_, index) => ({ path: `files/${index}`, body: 'x' }));

describe('verify, then unpack: nothing reaches the releases dir before the artifact is verified', () => {
  it('refuses max_entries + 1 tiny files from their headers, before writing anything', async () => {
    // The default limit, and one file more: an attack that used to write 100,000 files first.
    const artifact = gzip(buildTar([{ path: 'files', type: 'Directory' }, ...tinyFiles(100_000)]));
    const server = await serveBytes(artifact);
    const { error, ms, written, releasesDir } = await installWatched({
      source: { url: `${server.origin}/bomb.tgz`, checksum: sha256(artifact) },
    });
    console.log(`max_entries + 1 tiny files refused in ${Math.round(ms)} ms`);
    expect(error).toMatchObject({
      code: 'FERRY_E_ARCHIVE_TOO_LARGE',
      message: expect.stringContaining('expected at most 100000 entries, got at least 100001') as unknown,
    });
    expect(written).toEqual([]);
    expect(await listTree(releasesDir)).toEqual([]);
    // Nothing beside it either: the spooled tar had no name, and no copy of the artifact was kept.
    expect(await listTree(sandbox.root)).toEqual(['releases']);
  });

  it('refuses an archive under max_entries whose disk cost is over max_unpacked_size', async () => {
    // 2,000 bytes of data, 2,000 inodes and 2,000 blocks: 10 MB on disk.
    const artifact = gzip(buildTar(tinyFiles(2000)));
    const server = await serveBytes(artifact);
    const { error, written } = await installWatched({
      source: { url: `${server.origin}/small-files.tgz`, checksum: sha256(artifact) },
      limits: { maxBytes: 1024 * 1024, maxEntries: 100_000 },
    });
    expect(error).toMatchObject({
      code: 'FERRY_E_ARCHIVE_TOO_LARGE',
      message: expect.stringContaining(
        'expected at most 1048576 bytes on disk once unpacked, got at least 1049600 (at "files/203"',
      ) as unknown,
    });
    expect(written).toEqual([]);
  });

  it('never unpacks an artifact that does not match its checksum, not even into a temp dir', async () => {
    const artifact = gzip(buildTar(tinyFiles(50)));
    const server = await serveBytes(artifact);
    const { error, written } = await installWatched({
      source: { url: `${server.origin}/a.tgz`, checksum: 'ab'.repeat(32) },
    });
    expect(error).toMatchObject({ code: 'FERRY_E_CHECKSUM_MISMATCH' });
    expect(written).toEqual([]);
    expect(await listTree(sandbox.root)).toEqual(['releases']);
  });

  it('never unpacks an unsafe archive, however late its unsafe entry comes', async () => {
    const artifact = gzip(
      buildTar([...tinyFiles(50), { path: 'link', type: 'SymbolicLink', linkpath: '/etc' }]),
    );
    const server = await serveBytes(artifact);
    const { error, written } = await installWatched({
      source: { url: `${server.origin}/a.tgz`, checksum: sha256(artifact) },
    });
    expect(error).toMatchObject({ code: 'FERRY_E_ARCHIVE_UNSAFE' });
    expect(written).toEqual([]);
  });

  it('unpacks a verified artifact, leaving only the release', async () => {
    const artifact = gzip(buildTar(tinyFiles(50)));
    const server = await serveBytes(artifact);
    const { release, written } = await installWatched({
      source: { url: `${server.origin}/a.tgz`, checksum: sha256(artifact) },
    });
    expect(await readFile(join(release!.dir, 'files/49'), 'utf8')).toBe('x');
    // The temp dir it was unpacked in, then the release renamed from it.
    expect(written).toEqual([expect.stringMatching(/^\.tmp-1\.0\.0-/), '1.0.0']);
    expect(await listTree(sandbox.root)).toContain('releases/1.0.0/files/49');
    expect((await listTree(sandbox.root)).filter((path) => !path.startsWith('releases'))).toEqual([]);
  });
});

describe('a file:// artifact that changes after it was verified: nothing unverified is installed', () => {
  const original = gzip(buildTar([{ path: 'app.js', body: 'verified' }]));
  const other = gzip(buildTar([{ path: 'app.js', body: 'swapped' }]));

  /** Installs path, running swap once the first pass has read (and hashed) the whole artifact. */
  function installSwapping(path: string, swap: () => void) {
    let swapped = false;
    return installRelease({
      releasesDir: join(sandbox.root, 'releases'),
      version: '1.0.0',
      source: { url: pathToFileURL(path).href, checksum: sha256(original) },
      onProgress: (progress) => {
        // Synchronous, so it is done before the second pass reads anything.
        if (progress.phase === 'verify' && !swapped) swap();
        swapped ||= progress.phase === 'verify';
      },
    });
  }

  it('fails, leaving nothing, when it is rewritten in place after it was verified', async () => {
    const path = join(sandbox.root, 'app.tgz');
    await writeFile(path, original);
    // The same inode, new content: what copying onto the artifact in place does. The second pass
    // reads it again and hashes it again: what it would unpack is not what was verified.
    const error = await installSwapping(path, () => writeFileSync(path, other)).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'FERRY_E_CHECKSUM_MISMATCH' });
    expect(await listTree(join(sandbox.root, 'releases'))).toEqual([]);
  });

  it('installs what was verified when another file was renamed over it', async () => {
    const path = join(sandbox.root, 'app.tgz');
    await writeFile(path, original);
    const release = await installSwapping(path, () => {
      writeFileSync(`${path}.new`, other);
      renameSync(`${path}.new`, path);
    });
    expect(await readFile(join(release.dir, 'app.js'), 'utf8')).toBe('verified');
  });
});
