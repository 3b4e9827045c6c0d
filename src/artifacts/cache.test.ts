import { randomBytes } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DownloadCache } from './cache.js';
import { makeTempDir } from './test-support/fs.js';
import { sha256 } from './test-support/harness.js';

let root: { path: string; remove: () => Promise<void> };

beforeEach(async () => {
  root = await makeTempDir();
});

afterEach(async () => {
  await root.remove();
});

describe('CacheWriter', () => {
  it('keeps the chunks in order when the download runs ahead of the copy', async () => {
    const cache = new DownloadCache(join(root.path, 'cache'), 1024 ** 3);
    const chunks = Array.from({ length: 24 }, () => randomBytes(1024 * 1024));
    const writer = await cache.startWrite();
    for (const chunk of chunks) await writer.write(chunk);
    const key = { algorithm: 'sha256' as const, hex: 'a'.repeat(64) };
    await writer.commit(key);
    // Compared by digest: a failing toEqual on megabytes of bytes would drown the report.
    expect(sha256(await readFile(cache.pathFor(key)))).toBe(sha256(Buffer.concat(chunks)));
  });

  it('leaves nothing behind when discarded with writes still queued', async () => {
    const cache = new DownloadCache(join(root.path, 'cache'), 1024 ** 3);
    const writer = await cache.startWrite();
    for (let i = 0; i < 4; i++) await writer.write(randomBytes(1024 * 1024));
    await writer.discard();
    expect(await readdir(join(root.path, 'cache'))).toEqual([]);
  });
});
