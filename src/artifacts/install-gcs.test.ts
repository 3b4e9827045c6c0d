import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { ServerResponse } from 'node:http';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { installRelease } from './install.js';
import { resetGcsClient, setGcsStallTimeout } from './sources/gcs.js';
import { rejection, sha256 } from './test-support/harness.js';
import type { TestServer } from './test-support/http-server.js';
import { useSandbox } from './test-support/sandbox.js';
import { buildTar, gzip } from './test-support/tar.js';

const sandbox = useSandbox();

afterEach(() => {
  vi.unstubAllEnvs();
  resetGcsClient();
  setGcsStallTimeout(60_000);
});

/**
 * The two calls of the GCS JSON API the client makes to download: object metadata
 * (GET .../b/<bucket>/o/<object>) and the media (the same with alt=media), here for one object.
 */
async function fakeGcs(
  objects: Record<string, Buffer>,
  onMedia?: (response: ServerResponse, data: Buffer, number: number) => boolean,
): Promise<TestServer> {
  const started = await sandbox.serve((request, response, number) => {
    const url = new URL(request.url ?? '/', 'http://localhost');
    const match = /\/b\/([^/]+)\/o\/([^/]+)$/.exec(url.pathname);
    const name = match === null ? '' : `${match[1]}/${decodeURIComponent(match[2] ?? '')}`;
    const data = objects[name];
    if (data === undefined) {
      response.writeHead(404, { 'content-type': 'application/json' });
      response.end(
        JSON.stringify({
          error: {
            code: 404,
            message: 'No such object',
            errors: [{ reason: 'notFound', message: 'No such object' }],
          },
        }),
      );
      return;
    }
    if (url.searchParams.get('alt') !== 'media') {
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end(
        JSON.stringify({
          kind: 'storage#object',
          bucket: match?.[1],
          name: decodeURIComponent(match?.[2] ?? ''),
          size: String(data.length),
          generation: '1',
        }),
      );
      return;
    }
    if (onMedia?.(response, data, number) === true) return;
    const start = Number(/^bytes=(\d+)-/.exec(request.headers.range ?? '')?.[1] ?? 0);
    response.writeHead(start > 0 ? 206 : 200, {
      'content-length': data.length - start,
      ...(start > 0 ? { 'content-range': `bytes ${start}-${data.length - 1}/${data.length}` } : {}),
    });
    response.end(data.subarray(start));
  });
  vi.stubEnv('STORAGE_EMULATOR_HOST', started.origin);
  resetGcsClient();
  return started;
}

function install(url: string, checksum?: string) {
  return installRelease({
    releasesDir: join(sandbox.root, 'releases'),
    version: '1.0.0',
    source: { url, checksum },
    retryWaitMs: 5,
  });
}

describe('installRelease from gs://', () => {
  it('downloads an object through the client and installs it', async () => {
    const payload = randomBytes(200 * 1024);
    const artifact = gzip(buildTar([{ path: 'data.bin', body: payload }]));
    const server = await fakeGcs({ 'ferry-releases/app/1.0.0.tgz': artifact });
    const release = await install('gs://ferry-releases/app/1.0.0.tgz', sha256(artifact));
    expect(sha256(await readFile(join(release.dir, 'data.bin')))).toBe(sha256(payload));
    expect(server.requests.map((request) => `${request.method} ${request.url}`)).toEqual([
      'GET /b/ferry-releases/o/app%2F1.0.0.tgz?',
      'GET /b/ferry-releases/o/app%2F1.0.0.tgz?alt=media',
    ]);
  });

  it('resumes a download cut mid-stream at the byte it stopped', async () => {
    const payload = randomBytes(400 * 1024);
    const artifact = gzip(buildTar([{ path: 'data.bin', body: payload }]));
    // The client does not notice a cut body of known length; the stall check does.
    setGcsStallTimeout(300);
    let media = 0;
    const server = await fakeGcs({ 'b/a.tgz': artifact }, (response, data) => {
      if (++media > 1) return false;
      response.writeHead(200, { 'content-length': data.length });
      response.write(data.subarray(0, 100 * 1024), () => response.socket?.destroy());
      return true;
    });
    const release = await install('gs://b/a.tgz', sha256(artifact));
    expect(sha256(await readFile(join(release.dir, 'data.bin')))).toBe(sha256(payload));
    const ranges = server.requests.filter((request) => request.url.includes('alt=media'));
    expect(ranges).toHaveLength(2);
    expect(ranges[1]?.headers.range).toMatch(/^bytes=[1-9]\d*-$/);
  });

  it('retries a 503 from the media download', async () => {
    const artifact = gzip(buildTar([{ path: 'a', body: 'a' }]));
    let media = 0;
    await fakeGcs({ 'b/a.tgz': artifact }, (response) => {
      if (++media > 1) return false;
      response.writeHead(503).end();
      return true;
    });
    await install('gs://b/a.tgz', sha256(artifact));
    expect(media).toBe(2);
  });

  it('fails a missing object at once with a clear, non-retryable error', async () => {
    const server = await fakeGcs({});
    const error = await rejection(install('gs://ferry-releases/app/none.tgz'));
    expect(error.code).toBe('FERRY_E_ARTIFACT_SOURCE');
    expect(error.message).toBe(
      'GET gs://ferry-releases/app/none.tgz: expected an object, got 404 (no such object or bucket)',
    );
    expect(error.details.retryable).toBe(false);
    expect(server.requests).toHaveLength(1);
  });
});
