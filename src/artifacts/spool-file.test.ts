import { randomBytes } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DownloadCache } from './cache.js';
import { SpoolFile } from './spool-file.js';
import { sha256 } from './test-support/harness.js';
import { useSandbox } from './test-support/sandbox.js';

const sandbox = useSandbox();

async function readAll(file: SpoolFile): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of file.chunks(new AbortController().signal)) chunks.push(chunk);
  return Buffer.concat(chunks);
}

describe('SpoolFile', () => {
  it('keeps the chunks in order when the stream runs ahead of the copy, and reads them back', async () => {
    const file = await SpoolFile.besideReleases(join(sandbox.root, 'releases'), '1.0.0');
    const chunks = Array.from({ length: 24 }, () => randomBytes(1024 * 1024));
    for (const chunk of chunks) await file.write(chunk);
    await file.finish();
    // It has no name: nothing to leave behind, even if the process died now.
    expect(await readdir(sandbox.root)).toEqual([]);
    // Compared by digest: a failing toEqual on megabytes of bytes would drown the report.
    expect(sha256(await readAll(file))).toBe(sha256(Buffer.concat(chunks)));
    await file.release();
    expect(await readdir(sandbox.root)).toEqual([]);
  });

  it('becomes a cache entry that stays once released', async () => {
    const cache = new DownloadCache(join(sandbox.root, 'cache'), 1024 ** 3);
    const file = await SpoolFile.create(await cache.tempPath());
    const data = randomBytes(3 * 1024 * 1024);
    await file.write(data.subarray(0, 1000));
    await file.write(data.subarray(1000));
    await file.finish();
    const key = { algorithm: 'sha256' as const, hex: 'a'.repeat(64) };
    await file.keepIn(cache, key);
    await file.release();
    expect(await readdir(cache.dir)).toEqual([`sha256-${'a'.repeat(64)}`]);
    expect(sha256(await readFile(cache.pathFor(key)))).toBe(sha256(data));
  });

  it('leaves nothing behind when released with writes still queued', async () => {
    const file = await SpoolFile.besideReleases(join(sandbox.root, 'releases'), '1.0.0');
    for (let i = 0; i < 4; i++) await file.write(randomBytes(1024 * 1024));
    await file.release();
    expect(await readdir(sandbox.root)).toEqual([]);
  });
});
