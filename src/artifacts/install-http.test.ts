import { randomBytes } from 'node:crypto';
import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { installRelease } from './install.js';
import { readReleaseRecord } from './release-record.js';
import { listTree, makeTempDir } from './test-support/fs.js';
import { packTree, rejection, sha256 } from './test-support/harness.js';
import { startServer, type TestServer } from './test-support/http-server.js';
import { buildTar, gzip } from './test-support/tar.js';
import type { InstallReleaseOptions } from './types.js';

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

describe('installRelease over http', () => {
  it.each([
    ['tar.gz', true],
    ['tar', false],
  ])('installs a %s', async (_name, gzipped) => {
    const artifact = await packTree(root.path, { 'index.js': 'ok' }, gzipped);
    const server = await serveBytes(artifact);
    const release = await install(`${server.origin}/app`, {
      source: { url: `${server.origin}/app`, checksum: sha256(artifact) },
    });
    expect(await readFile(join(release.dir, 'index.js'), 'utf8')).toBe('ok');
  });

  it('streams a large artifact through in one pass', async () => {
    const big = randomBytes(8 * 1024 * 1024);
    const artifact = gzip(
      buildTar([
        { path: 'big.bin', body: big },
        { path: 'small', body: 's' },
      ]),
    );
    const server = await serve((_request, response) => {
      response.writeHead(200);
      // Small, uneven chunks exercise the parser's backpressure.
      let offset = 0;
      const pump = (): void => {
        while (offset < artifact.length) {
          const chunk = artifact.subarray(offset, offset + 7919);
          offset += chunk.length;
          if (!response.write(chunk)) return void response.once('drain', pump);
        }
        response.end();
      };
      pump();
    });
    const release = await install(`${server.origin}/big.tgz`, {
      source: { url: `${server.origin}/big.tgz`, checksum: sha256(artifact) },
    });
    expect(sha256(await readFile(join(release.dir, 'big.bin')))).toBe(sha256(big));
  });

  it('fails a 404 at once, with the status, without retrying', async () => {
    const server = await serve((_request, response) => {
      response.writeHead(404).end('not here');
    });
    const error = await rejection(install(`${server.origin}/missing.tgz`, { retries: 3 }));
    expect(error.code).toBe('FERRY_E_ARTIFACT_SOURCE');
    expect(error.message).toBe(`GET ${server.origin}/missing.tgz: expected HTTP 200, got 404 Not Found`);
    expect(server.requests).toHaveLength(1);
    expect(await listTree(releasesDir)).toEqual([]);
  });

  it('retries a 500 and then fails with the status', async () => {
    const server = await serve((_request, response) => {
      response.writeHead(500).end('boom');
    });
    const error = await rejection(install(`${server.origin}/a.tgz`, { retries: 2 }));
    expect(error.message).toBe(
      `GET ${server.origin}/a.tgz: expected HTTP 200, got 500 Internal Server Error (gave up after 3 attempts)`,
    );
    expect(server.requests).toHaveLength(3);
    expect(await listTree(releasesDir)).toEqual([]);
  });

  it('succeeds after a 503', async () => {
    const artifact = gzip(buildTar([{ path: 'a', body: 'a' }]));
    const server = await serve((_request, response, number) => {
      if (number === 1) response.writeHead(503).end();
      else response.end(artifact);
    });
    await install(`${server.origin}/a.tgz`);
    expect(server.requests).toHaveLength(2);
  });

  it('restarts from scratch when the connection is cut mid-stream, and installs', async () => {
    const artifact = gzip(buildTar([{ path: 'data', body: randomBytes(512 * 1024) }]));
    const server = await serve((_request, response, number) => {
      response.writeHead(200, { 'content-length': artifact.length });
      if (number === 1) {
        response.write(artifact.subarray(0, 200 * 1024), () => response.socket?.destroy());
      } else {
        response.end(artifact);
      }
    });
    const release = await install(`${server.origin}/a.tgz`, {
      source: { url: `${server.origin}/a.tgz`, checksum: sha256(artifact) },
    });
    expect(release.reused).toBe(false);
    expect(server.requests).toHaveLength(2);
    expect(await readdir(releasesDir)).toEqual(['1.4.2']);
  });

  it('times out a download that stalls, leaving nothing', async () => {
    const artifact = gzip(buildTar([{ path: 'data', body: randomBytes(64 * 1024) }]));
    const server = await serve((_request, response) => {
      response.writeHead(200, { 'content-length': artifact.length });
      response.write(artifact.subarray(0, 1000));
    });
    const error = await rejection(install(`${server.origin}/a.tgz`, { timeoutMs: 300 }));
    expect(error.code).toBe('FERRY_E_ARTIFACT_SOURCE');
    expect(error.message).toBe(
      `fetching ${server.origin}/a.tgz: expected to finish within 300ms, got no complete artifact in that time`,
    );
    expect(await listTree(releasesDir)).toEqual([]);
  });

  it('stops when the caller aborts, leaving nothing', async () => {
    const controller = new AbortController();
    const server = await serve((_request, response) => {
      response.writeHead(200);
      response.write(gzip(buildTar([{ path: 'a', body: 'a' }])).subarray(0, 100), () =>
        controller.abort(new Error('operator said stop')),
      );
    });
    const error = await install(`${server.origin}/a.tgz`, { signal: controller.signal }).catch(
      (caught: unknown) => caught,
    );
    expect((error as Error).message).toBe('operator said stop');
    expect(await listTree(releasesDir)).toEqual([]);
  });

  it('follows redirects, keeping headers on the same origin and dropping them on another', async () => {
    const artifact = gzip(buildTar([{ path: 'a', body: 'a' }]));
    const storage = await serveBytes(artifact);
    const api = await serve((request, response) => {
      if (request.url === '/first') response.writeHead(302, { location: '/second' }).end();
      else response.writeHead(307, { location: `${storage.origin}/blob` }).end();
    });
    await install('', {
      source: { url: `${api.origin}/first`, headers: { 'x-api-token': 'secret-token' } },
    });
    expect(api.requests.map((request) => request.headers['x-api-token'])).toEqual([
      'secret-token',
      'secret-token',
    ]);
    expect(storage.requests[0]?.headers['x-api-token']).toBeUndefined();
  });

  it('never follows a redirect to another scheme', async () => {
    const server = await serve((_request, response) => {
      response.writeHead(302, { location: 'file:///etc/passwd' }).end();
    });
    const error = await rejection(install(`${server.origin}/a.tgz`));
    expect(error.message).toMatch(/HTTP 302 expected a Location to an http\(s\) URL/);
  });

  it('sends URL credentials as Basic auth and keeps them out of messages and records', async () => {
    const artifact = gzip(buildTar([{ path: 'a', body: 'a' }]));
    const server = await serve((request, response) => {
      if (request.url === '/missing') response.writeHead(404).end();
      else response.end(artifact);
    });
    const withCredentials = server.origin.replace('http://', 'http://deploy:hunter2@');
    const release = await install(`${withCredentials}/a.tgz`);
    expect(server.requests[0]?.headers.authorization).toBe(
      `Basic ${Buffer.from('deploy:hunter2').toString('base64')}`,
    );
    expect(JSON.stringify(await readReleaseRecord(release.dir))).not.toContain('hunter2');

    const error = await rejection(
      installRelease({
        releasesDir,
        version: '2.0.0',
        source: { url: `${withCredentials}/missing` },
        retries: 0,
      }),
    );
    expect(error.message).not.toContain('hunter2');
    expect(error.message).not.toContain('deploy');
  });
});
