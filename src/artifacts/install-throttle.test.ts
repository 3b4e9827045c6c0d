import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { installRelease } from './install.js';
import { listTree } from './test-support/fs.js';
import { rejection, sha256 } from './test-support/harness.js';
import { useSandbox } from './test-support/sandbox.js';
import { buildTar, gzip } from './test-support/tar.js';

const sandbox = useSandbox();

afterEach(() => {
  vi.restoreAllMocks();
});

/**
 * The pacing itself is tested on a fake clock (throttle.test.ts). Here only what the install wires:
 * lower bounds on the wall clock, which a busy machine can only exceed, never upper bounds.
 */
describe('pacing downloads', () => {
  it('keeps to maxBytesPerSecond: a download of 2 seconds at that pace takes at least 1.5 s', async () => {
    // Random data does not compress: the artifact is about 256 KiB on the wire.
    const artifact = gzip(buildTar([{ path: 'data', body: randomBytes(256 * 1024) }]));
    const server = await sandbox.serve((_request, response) => {
      response.writeHead(200, { 'content-length': artifact.length });
      response.end(artifact);
    });
    const startedAt = performance.now();
    await installRelease({
      releasesDir: join(sandbox.root, 'releases'),
      version: '1.0.0',
      source: { url: `${server.origin}/a.tgz`, checksum: sha256(artifact) },
      maxBytesPerSecond: Math.floor(artifact.length / 2),
    });
    const seconds = (performance.now() - startedAt) / 1000;
    expect(seconds).toBeGreaterThanOrEqual(1.5);
  });

  it('waits a random time before fetching when randomDelayMs is set', async () => {
    const artifact = gzip(buildTar([{ path: 'a', body: 'a' }]));
    let firstRequestAt = 0;
    const server = await sandbox.serve((_request, response) => {
      firstRequestAt ||= performance.now();
      response.end(artifact);
    });
    // The draw decides the wait: half of randomDelayMs here.
    vi.spyOn(Math, 'random').mockReturnValue(0.5);
    const startedAt = performance.now();
    await installRelease({
      releasesDir: join(sandbox.root, 'releases'),
      version: '1.0.0',
      source: { url: `${server.origin}/a.tgz` },
      randomDelayMs: 400,
    });
    expect(firstRequestAt - startedAt).toBeGreaterThanOrEqual(190);
  });

  it('stops waiting when the caller aborts, without fetching', async () => {
    const server = await sandbox.serve((_request, response) => {
      response.writeHead(500).end();
    });
    vi.spyOn(Math, 'random').mockReturnValue(0.99);
    const controller = new AbortController();
    const pending = installRelease({
      releasesDir: join(sandbox.root, 'releases'),
      version: '1.0.0',
      source: { url: `${server.origin}/a.tgz` },
      randomDelayMs: 2 ** 31 - 1,
      signal: controller.signal,
    });
    // Wherever the abort finds the install (before or in its 24-day wait; throttle.test.ts aborts
    // the wait itself), the install ends with the caller's reason and never fetches.
    controller.abort(new Error('operator said stop'));
    const error = await pending.catch((caught: unknown) => caught);
    expect((error as Error).message).toBe('operator said stop');
    expect(server.requests).toHaveLength(0);
    expect(await listTree(join(sandbox.root, 'releases'))).toEqual([]);
  });

  it('rejects a maxBytesPerSecond of 0', async () => {
    const error = await rejection(
      installRelease({
        releasesDir: join(sandbox.root, 'releases'),
        version: '1.0.0',
        source: { url: 'file:///nowhere.tgz' },
        maxBytesPerSecond: 0,
      }),
    );
    expect(error.code).toBe('FERRY_E_USAGE');
  });
});
