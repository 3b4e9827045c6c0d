import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { installRelease } from './install.js';
import { listTree } from './test-support/fs.js';
import { rejection, sha256 } from './test-support/harness.js';
import { useSandbox } from './test-support/sandbox.js';

// Made with `tar cf r.tar app && zstd -19 r.tar`: app/big.txt (1.5 MB of numbered lines, several
// zstd blocks) and app/small.txt. Node 20 cannot write zstd, so the archive is a checked-in fixture.
const fixture = await readFile(new URL('./test-support/release.tar.zst', import.meta.url));
const BIG_SHA256 = '19b5d59846271ad6ef8f698248cc8e800e676a9f05419ac04434fcb31d56b741';

const sandbox = useSandbox();

/** Serves data in 1 KiB writes, so the decoder sees many small chunks and blocks split across them. */
async function serveInPieces(data: Buffer): Promise<string> {
  const server = await sandbox.serve((_request, response) => {
    response.writeHead(200, { 'content-length': data.length });
    for (let offset = 0; offset < data.length; offset += 1024)
      response.write(data.subarray(offset, offset + 1024));
    response.end();
  });
  return `${server.origin}/release.tar.zst`;
}

describe('tar.zst artifacts', () => {
  it('are detected by content and unpacked while streaming', async () => {
    const release = await installRelease({
      releasesDir: join(sandbox.root, 'releases'),
      version: '1.0.0',
      source: { url: await serveInPieces(fixture), checksum: sha256(fixture) },
    });
    expect(sha256(await readFile(join(release.dir, 'app/big.txt')))).toBe(BIG_SHA256);
    expect(await readFile(join(release.dir, 'app/small.txt'), 'utf8')).toBe('hello zstd\n');
  });

  it('a truncated zstd stream is rejected, leaving nothing', async () => {
    const truncated = fixture.subarray(0, Math.floor(fixture.length / 2));
    const error = await rejection(
      installRelease({
        releasesDir: join(sandbox.root, 'releases'),
        version: '1.0.0',
        source: { url: await serveInPieces(truncated) },
      }),
    );
    expect(error.code).toBe('FERRY_E_ARTIFACT_FORMAT');
    expect(error.message).toMatch(
      /^artifact http:\/\/127\.0\.0\.1:\d+\/release\.tar\.zst: expected a valid zstd stream, got /,
    );
    expect(await listTree(join(sandbox.root, 'releases'))).toEqual([]);
  });
});
