import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { installRelease } from './install.js';
import { readReleaseRecord } from './release-record.js';
import { listTree, makeTempDir } from './test-support/fs.js';
import { packTree, rejection, sha256 } from './test-support/harness.js';
import { startServer, type TestServer } from './test-support/http-server.js';
import { buildTar, gzip } from './test-support/tar.js';
import type { InstallProgress, InstallReleaseOptions } from './types.js';

let root: { path: string; remove: () => Promise<void> };
let releasesDir: string;
const servers: TestServer[] = [];

beforeEach(async () => {
  root = await makeTempDir();
  releasesDir = join(root.path, 'releases');
});

afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => server.close()));
  await root.remove();
});

async function writeArtifact(name: string, data: Buffer): Promise<string> {
  const path = join(root.path, name);
  await writeFile(path, data);
  return pathToFileURL(path).href;
}

async function serve(handler: Parameters<typeof startServer>[0]): Promise<TestServer> {
  const server = await startServer(handler);
  servers.push(server);
  return server;
}

function serveBytes(data: Buffer): Promise<TestServer> {
  return serve((_request, response) => {
    response.writeHead(200, { 'content-length': data.length });
    response.end(data);
  });
}

function install(url: string, extra: Partial<InstallReleaseOptions> = {}) {
  return installRelease({ releasesDir, version: '1.4.2', source: { url }, retryWaitMs: 5, ...extra });
}

describe('installRelease from file://', () => {
  it.each([
    ['tar.gz', true],
    ['tar', false],
  ])('installs a %s, verified, with its release record', async (_name, gzipped) => {
    const artifact = await packTree(
      root.path,
      { 'bin/app': '#!/bin/sh\necho hi\n', 'README.md': 'hello' },
      gzipped,
    );
    // The name says .bin: the content decides whether to gunzip.
    const url = await writeArtifact('artifact.bin', artifact);
    const release = await install(url, { source: { url, checksum: `sha256:${sha256(artifact)}` } });

    expect(release).toMatchObject({
      version: '1.4.2',
      dir: join(releasesDir, '1.4.2'),
      checksum: `sha256:${sha256(artifact)}`,
      bytes: artifact.length,
      reused: false,
    });
    expect(await readFile(join(release.dir, 'bin/app'), 'utf8')).toBe('#!/bin/sh\necho hi\n');
    expect(await readFile(join(release.dir, 'README.md'), 'utf8')).toBe('hello');
    expect(await readReleaseRecord(release.dir)).toMatchObject({
      version: '1.4.2',
      checksum: `sha256:${sha256(artifact)}`,
      url,
      bytes: artifact.length,
    });
    expect(await readdir(releasesDir)).toEqual(['1.4.2']);
  });

  it('writes every byte of many small files split across gzip chunks, in order', async () => {
    // Entries straddle the 16 KiB chunks gunzip emits, so most files get their data in two pieces.
    const bodies = Array.from({ length: 2000 }, () => randomBytes(1500 + Math.floor(Math.random() * 1500)));
    const entries = bodies.map((body, index) => ({ path: `d${index % 30}/f${index}`, body }));
    const release = await install(await writeArtifact('many.tgz', gzip(buildTar(entries))));
    for (const [index, body] of bodies.entries()) {
      expect(sha256(await readFile(join(release.dir, `d${index % 30}/f${index}`)))).toBe(sha256(body));
    }
  });

  it('installs without a checksum and records the sha256 it computed', async () => {
    const artifact = gzip(buildTar([{ path: 'a', body: 'a' }]));
    const release = await install(await writeArtifact('a.tgz', artifact));
    expect(release.checksum).toBe(`sha256:${sha256(artifact)}`);
  });

  it('verifies with the algorithm given (md5 here) and reports the checksum in it', async () => {
    const artifact = gzip(buildTar([{ path: 'a', body: 'a' }]));
    const md5 = createHash('md5').update(artifact).digest('hex');
    const url = await writeArtifact('a.tgz', artifact);
    const release = await install(url, {
      source: { url, checksum: md5.toUpperCase() },
      allowWeakChecksums: true,
    });
    expect(release.checksum).toBe(`md5:${md5}`);
    expect((await readReleaseRecord(release.dir))?.checksums).toEqual({ md5, sha256: sha256(artifact) });
  });

  it('fails a checksum mismatch with expected and got, leaving nothing behind', async () => {
    const artifact = gzip(buildTar([{ path: 'a', body: 'a' }]));
    const url = await writeArtifact('a.tgz', artifact);
    const wrong = 'ab'.repeat(32);
    const error = await rejection(install(url, { source: { url, checksum: wrong } }));
    expect(error.code).toBe('FERRY_E_CHECKSUM_MISMATCH');
    expect(error.message).toBe(
      `checksum mismatch for ${url}: expected sha256:${wrong}, got sha256:${sha256(artifact)}`,
    );
    expect(await listTree(releasesDir)).toEqual([]);
  });

  it('names the missing file', async () => {
    const missing = join(root.path, 'nope.tar.gz');
    const error = await rejection(install(pathToFileURL(missing).href, { retries: 0 }));
    expect(error.code).toBe('FERRY_E_ARTIFACT_SOURCE');
    expect(error.message).toBe(`artifact file ${missing} does not exist`);
  });

  it('rejects an unknown scheme and a bad version before doing anything', async () => {
    expect((await rejection(install('ftp://host/a.tgz'))).message).toMatch(
      /expected a scheme of file:\/\/, http:\/\/, https:\/\/, s3:\/\/, gs:\/\/, got ftp:/,
    );
    const badVersion = await rejection(
      installRelease({ releasesDir, version: '../x', source: { url: 'file:///x' } }),
    );
    expect(badVersion.code).toBe('FERRY_E_USAGE');
    expect(await listTree(releasesDir)).toEqual([]);
  });

  it('reinstalling the same version with the same checksum fetches nothing (reused)', async () => {
    const artifact = gzip(buildTar([{ path: 'a', body: 'a' }]));
    const server = await serveBytes(artifact);
    const source = { url: `${server.origin}/a.tgz`, checksum: sha256(artifact) };
    const first = await install(source.url, { source });
    const second = await install(source.url, { source });
    expect(first.reused).toBe(false);
    expect(second).toMatchObject({
      reused: true,
      dir: first.dir,
      checksum: first.checksum,
      bytes: artifact.length,
    });
    expect(server.requests).toHaveLength(1);
  });

  it('refuses to replace an installed version with other content, naming both checksums', async () => {
    const one = gzip(buildTar([{ path: 'a', body: 'one' }]));
    const two = gzip(buildTar([{ path: 'a', body: 'two' }]));
    await install(await writeArtifact('one.tgz', one));
    const url = await writeArtifact('two.tgz', two);
    const error = await rejection(install(url, { source: { url, checksum: sha256(two) } }));
    expect(error.code).toBe('FERRY_E_RELEASE_CONFLICT');
    expect(error.message).toContain(`expected sha256:${sha256(two)}, got sha256:${sha256(one)}`);
    expect(await readFile(join(releasesDir, '1.4.2', 'a'), 'utf8')).toBe('one');
  });

  it('never touches a directory of that name it did not install', async () => {
    await mkdir(join(releasesDir, '1.4.2'), { recursive: true });
    await writeFile(join(releasesDir, '1.4.2', 'mine'), 'keep');
    const error = await rejection(install(await writeArtifact('a.tgz', gzip(buildTar([{ path: 'a' }])))));
    expect(error.code).toBe('FERRY_E_RELEASE_CONFLICT');
    expect(await listTree(releasesDir)).toEqual(['1.4.2', '1.4.2/mine']);
  });

  it('two concurrent installs of one version end with one release, one of them reused', async () => {
    const artifact = gzip(buildTar([{ path: 'a', body: 'a'.repeat(100_000) }]));
    const url = await writeArtifact('a.tgz', artifact);
    const results = await Promise.all([install(url), install(url)]);
    expect(results.map((result) => result.reused).sort()).toEqual([false, true]);
    expect(await readdir(releasesDir)).toEqual(['1.4.2']);
  });

  it('reports download, verify and extract progress, in that order', async () => {
    const artifact = gzip(buildTar([{ path: 'a', body: randomBytes(300_000) }]));
    const events: InstallProgress[] = [];
    await install(await writeArtifact('a.tgz', artifact), {
      onProgress: (progress) => events.push(progress),
    });
    const phases = events.map((event) => event.phase).filter((phase, i, all) => phase !== all[i - 1]);
    expect(phases).toEqual(['download', 'verify', 'extract']);
    const downloads = events.filter((event) => event.phase === 'download');
    expect(downloads.at(-1)).toEqual({ phase: 'download', bytes: artifact.length, total: artifact.length });
    expect(events.find((event) => event.phase === 'verify')).toEqual({
      phase: 'verify',
      bytes: artifact.length,
      total: artifact.length,
    });
    expect(events.at(-1)).toEqual({ phase: 'extract', bytes: 300_000, total: null });
  });
});

describe('installRelease with a checksums file', () => {
  it('uses the entry for the artifact file name', async () => {
    const artifact = gzip(buildTar([{ path: 'a', body: 'a' }]));
    const server = await serve((request, response) => {
      if (request.url === '/v1/SHA256SUMS')
        response.end(`${'0'.repeat(64)}  other.tgz\n${sha256(artifact)} *app-1.4.2.tar.gz\n`);
      else response.end(artifact);
    });
    const release = await install('', {
      source: { url: `${server.origin}/v1/app-1.4.2.tar.gz`, checksumsUrl: `${server.origin}/v1/SHA256SUMS` },
    });
    expect(release.checksum).toBe(`sha256:${sha256(artifact)}`);
  });

  it('fails when the artifact does not match its entry, leaving nothing', async () => {
    const artifact = gzip(buildTar([{ path: 'a', body: 'a' }]));
    const listed = 'c'.repeat(64);
    const server = await serve((request, response) => {
      response.end(request.url === '/SHA256SUMS' ? `${listed}  app.tgz\n` : artifact);
    });
    const error = await rejection(
      install('', {
        source: { url: `${server.origin}/app.tgz`, checksumsUrl: `${server.origin}/SHA256SUMS` },
      }),
    );
    expect(error.code).toBe('FERRY_E_CHECKSUM_MISMATCH');
    expect(error.message).toContain(`expected sha256:${listed}, got sha256:${sha256(artifact)}`);
    expect(await listTree(releasesDir)).toEqual([]);
  });

  it('fails before downloading when the given checksum and the file disagree', async () => {
    const server = await serve((request, response) => {
      response.end(request.url === '/SHA256SUMS' ? `${'c'.repeat(64)}  app.tgz\n` : 'never asked for');
    });
    const error = await rejection(
      install('', {
        source: {
          url: `${server.origin}/app.tgz`,
          checksum: 'd'.repeat(64),
          checksumsUrl: `${server.origin}/SHA256SUMS`,
        },
      }),
    );
    expect(error.code).toBe('FERRY_E_CHECKSUM_MISMATCH');
    expect(error.message).toMatch(
      /disagrees with .*SHA256SUMS: expected sha256:d{64} \(given\), got sha256:c{64} \(listed\)/,
    );
    expect(server.requests.map((request) => request.url)).toEqual(['/SHA256SUMS']);
  });

  it('fails when the file has no entry for the artifact', async () => {
    const server = await serve((_request, response) => response.end(`${'c'.repeat(64)}  other.tgz\n`));
    const error = await rejection(
      install('', {
        source: { url: `${server.origin}/app.tgz`, checksumsUrl: `${server.origin}/SHA256SUMS` },
      }),
    );
    expect(error.code).toBe('FERRY_E_CHECKSUM_INVALID');
    expect(error.message).toContain('expected an entry for "app.tgz"');
  });
});
