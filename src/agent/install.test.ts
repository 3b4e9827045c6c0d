import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { useSandbox } from '../artifacts/test-support/sandbox.js';
import { buildTar, gzip } from '../artifacts/test-support/tar.js';
import type { ArtifactConfig } from '../config/types.js';
import type { AppHost } from './app-host.js';
import { installOnHost } from './install.js';

const sandbox = useSandbox();
const artifact = gzip(buildTar([{ path: 'app.js', body: 'ok' }]));
const checksum = `sha256:${createHash('sha256').update(artifact).digest('hex')}`;
const NO_CACHE = { cacheDir: null, cacheMaxBytes: 0, requireChecksum: true } as const;

/** The app's host as installOnHost reads it: its artifact settings and releases directory. */
function hostWith(url: string): AppHost {
  const settings: ArtifactConfig = {
    url,
    checksum: null,
    checksumsUrl: null,
    headers: { authorization: 'Bearer artifact-credential' },
    timeoutMs: 10_000,
    retries: 0,
    retryWaitMs: 10,
    maxBytesPerSecond: null,
    randomDelayMs: 0,
    limits: { maxBytes: 1 << 20, maxEntries: 100 },
    requireChecksum: true,
    allowWeakChecksums: false,
  };
  return {
    app: { artifact: settings },
    appName: 'web',
    envName: 'production',
    releasesDir: join(sandbox.root, 'releases'),
  } as unknown as AppHost;
}

describe("installOnHost: a release's own URL", () => {
  it("gets the app's artifact headers on the artifact's own origin only", async () => {
    const own = await sandbox.serve((_request, response) => response.end(artifact));
    const elsewhere = await sandbox.serve((_request, response) => response.end(artifact));
    const host = hostWith(`${own.origin}/web-{version}.tgz`);

    await installOnHost(host, '1.0.0', { url: `${own.origin}/builds/1.tgz`, checksum }, NO_CACHE);
    expect(own.requests[0]?.headers.authorization).toBe('Bearer artifact-credential');

    // A webhook may name any URL: the app's credentials never go there.
    await installOnHost(host, '1.1.0', { url: `${elsewhere.origin}/builds/2.tgz`, checksum }, NO_CACHE);
    expect(elsewhere.requests[0]?.headers.authorization).toBeUndefined();

    // A watcher's own credentials for its own origin go instead.
    const headers = { authorization: 'Bearer watcher-token', accept: 'application/octet-stream' };
    await installOnHost(host, '1.2.0', { url: `${elsewhere.origin}/assets/3`, checksum, headers }, NO_CACHE);
    expect(elsewhere.requests[1]?.headers).toMatchObject(headers);
  });
});
