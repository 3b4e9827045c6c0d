import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { installRelease } from './install.js';
import { sha256 } from './test-support/harness.js';
import { useSandbox } from './test-support/sandbox.js';
import { buildTar, gzip } from './test-support/tar.js';

const sandbox = useSandbox();

const payload = randomBytes(512 * 1024);
const artifact = gzip(buildTar([{ path: 'data', body: payload }]));
const CUT_AT = 200 * 1024;

/** Sends the first CUT_AT bytes and then drops the connection. */
function cut(response: ServerResponse): void {
  response.writeHead(200, { 'content-length': artifact.length, 'accept-ranges': 'bytes' });
  response.write(artifact.subarray(0, CUT_AT), () => response.socket?.destroy());
}

function answerRange(request: IncomingMessage, response: ServerResponse): void {
  const start = Number(/^bytes=(\d+)-$/.exec(request.headers.range ?? '')?.[1]);
  response.writeHead(206, {
    'content-length': artifact.length - start,
    'content-range': `bytes ${start}-${artifact.length - 1}/${artifact.length}`,
    'accept-ranges': 'bytes',
  });
  response.end(artifact.subarray(start));
}

function install(url: string) {
  return installRelease({
    releasesDir: join(sandbox.root, 'releases'),
    version: '1.0.0',
    source: { url, checksum: sha256(artifact) },
    retryWaitMs: 5,
  });
}

describe('resuming an http download', () => {
  it('continues with a Range request where the connection was cut', async () => {
    const server = await sandbox.serve((request, response, number) => {
      if (number === 1) cut(response);
      else answerRange(request, response);
    });
    const release = await install(`${server.origin}/a.tgz`);
    expect(server.requests).toHaveLength(2);
    expect(server.requests[0]?.headers.range).toBeUndefined();
    // Resumed from a byte past 0 (what had arrived before the cut), not restarted.
    const range = /^bytes=(\d+)-$/.exec(server.requests[1]?.headers.range ?? '');
    expect(Number(range?.[1])).toBeGreaterThan(0);
    expect(Number(range?.[1])).toBeLessThanOrEqual(CUT_AT);
    expect(release.bytes).toBe(artifact.length);
    expect(sha256(await readFile(join(release.dir, 'data')))).toBe(sha256(payload));
  });

  it('restarts from scratch when the server answers a Range request with 200', async () => {
    const server = await sandbox.serve((_request, response, number) => {
      if (number === 1) return cut(response);
      response.writeHead(200, { 'content-length': artifact.length });
      response.end(artifact);
    });
    const release = await install(`${server.origin}/a.tgz`);
    // 1: cut; 2: the resume, refused (200); 3: a fresh attempt from byte 0.
    expect(server.requests.map((request) => request.headers.range)).toEqual([
      undefined,
      expect.stringMatching(/^bytes=\d+-$/),
      undefined,
    ]);
    expect(sha256(await readFile(join(release.dir, 'data')))).toBe(sha256(payload));
  });

  it('does not resume when the server did not advertise Accept-Ranges', async () => {
    const server = await sandbox.serve((_request, response, number) => {
      response.writeHead(200, { 'content-length': artifact.length });
      if (number === 1) response.write(artifact.subarray(0, CUT_AT), () => response.socket?.destroy());
      else response.end(artifact);
    });
    await install(`${server.origin}/a.tgz`);
    expect(server.requests.map((request) => request.headers.range)).toEqual([undefined, undefined]);
  });
});
