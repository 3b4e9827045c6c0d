import { randomBytes } from 'node:crypto';
import { readdir, readFile, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DownloadCache } from './cache.js';
import { installRelease } from './install.js';
import { makeTempDir } from './test-support/fs.js';
import { sha256 } from './test-support/harness.js';
import { startServer, type TestServer } from './test-support/http-server.js';
import { buildTar, gzip } from './test-support/tar.js';
import type { InstallReleaseOptions } from './types.js';

let root: { path: string; remove: () => Promise<void> };
let cacheDir: string;
const servers: TestServer[] = [];

beforeEach(async () => {
  root = await makeTempDir();
  cacheDir = join(root.path, 'cache');
});

afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => server.close()));
  await root.remove();
});

async function serveBytes(data: Buffer): Promise<TestServer> {
  const server = await startServer((_request, response) => {
    response.writeHead(200, { 'content-length': data.length });
    response.end(data);
  });
  servers.push(server);
  return server;
}

function install(version: string, releases: string, extra: Partial<InstallReleaseOptions>) {
  return installRelease({
    releasesDir: join(root.path, releases),
    version,
    source: { url: 'http://127.0.0.1:1/unused' },
    cacheDir,
    retryWaitMs: 5,
    ...extra,
  });
}

const artifactOf = (body: string | Buffer): Buffer => gzip(buildTar([{ path: 'app.js', body }]));

describe('the download cache', () => {
  it('keeps a verified artifact and serves the next install of it without the network', async () => {
    const artifact = artifactOf('v1');
    const server = await serveBytes(artifact);
    const source = { url: `${server.origin}/a.tgz`, checksum: sha256(artifact) };
    const first = await install('1.0.0', 'host-a', { source });
    expect(first).toMatchObject({ readFrom: 'source', bytes: artifact.length });
    expect(await readdir(cacheDir)).toEqual([`sha256-${sha256(artifact)}`]);
    expect(await readFile(join(cacheDir, `sha256-${sha256(artifact)}`))).toEqual(artifact);

    const again = await install('1.0.0', 'host-b', { source });
    expect(server.requests).toHaveLength(1);
    expect(again).toMatchObject({ reused: false, readFrom: 'cache' });
    expect(await readFile(join(again.dir, 'app.js'), 'utf8')).toBe('v1');
    // Installed already: nothing is read at all.
    expect(await install('1.0.0', 'host-b', { source })).toMatchObject({
      reused: true,
      readFrom: 'installed',
    });
  });

  it('caches nothing when the checksum is not known up front', async () => {
    const server = await serveBytes(artifactOf('v1'));
    await install('1.0.0', 'host-a', { source: { url: `${server.origin}/a.tgz` } });
    await install('1.0.0', 'host-b', { source: { url: `${server.origin}/a.tgz` } });
    expect(server.requests).toHaveLength(2);
    expect(await readdir(cacheDir).catch(() => [])).toEqual([]);
  });

  it('keeps nothing of a download that fails verification', async () => {
    const server = await serveBytes(artifactOf('v1'));
    const source = { url: `${server.origin}/a.tgz`, checksum: sha256(artifactOf('other')) };
    const error = await install('1.0.0', 'host-a', { source }).catch((caught: unknown) => caught);
    expect((error as { code?: string }).code).toBe('FERRY_E_CHECKSUM_MISMATCH');
    expect(await readdir(cacheDir)).toEqual([]);
  });

  it('drops a damaged entry and fetches from the source instead', async () => {
    const artifact = artifactOf('v1');
    const server = await serveBytes(artifact);
    const source = { url: `${server.origin}/a.tgz`, checksum: sha256(artifact) };
    await install('1.0.0', 'host-a', { source });
    await writeFile(join(cacheDir, `sha256-${sha256(artifact)}`), artifactOf('tampered'));

    const release = await install('1.0.0', 'host-b', { source });
    expect(release.readFrom).toBe('source');
    expect(server.requests).toHaveLength(2);
    expect(await readFile(join(release.dir, 'app.js'), 'utf8')).toBe('v1');
    // The fresh, verified download replaced the damaged entry.
    expect(await readFile(join(cacheDir, `sha256-${sha256(artifact)}`))).toEqual(artifact);
  });

  it('evicts the oldest entries beyond cacheMaxBytes', async () => {
    const artifacts = [1, 2, 3].map(() => artifactOf(randomBytes(4096)));
    const size = Math.max(...artifacts.map((artifact) => artifact.length));
    for (const [index, artifact] of artifacts.entries()) {
      const server = await serveBytes(artifact);
      await install(`1.0.${index}`, 'host', {
        source: { url: `${server.origin}/a.tgz`, checksum: sha256(artifact) },
        cacheMaxBytes: size * 2,
      });
      // Distinct, increasing mtimes whatever the file system's timestamp resolution.
      const at = new Date(Date.UTC(2024, 0, 1, 0, 0, index));
      await utimes(join(cacheDir, `sha256-${sha256(artifact)}`), at, at);
    }
    await new DownloadCache(cacheDir, size * 2).evict();
    expect((await readdir(cacheDir)).sort()).toEqual(
      artifacts
        .slice(1)
        .map((artifact) => `sha256-${sha256(artifact)}`)
        .sort(),
    );
  });
});
