import { createHash } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { installRelease } from './install.js';
import { listTree } from './test-support/fs.js';
import { rejection, sha256 } from './test-support/harness.js';
import { useSandbox } from './test-support/sandbox.js';
import { buildTar, gzip } from './test-support/tar.js';
import type { ArtifactSource, InstallReleaseOptions } from './types.js';

const sandbox = useSandbox();

const artifact = gzip(buildTar([{ path: 'app.js', body: 'ok' }]));
const digest = (algorithm: string) => createHash(algorithm).update(artifact).digest('hex');

function install(source: ArtifactSource, extra: Partial<InstallReleaseOptions> = {}) {
  return installRelease({
    releasesDir: join(sandbox.root, 'releases'),
    version: '1.0.0',
    source,
    retryWaitMs: 5,
    ...extra,
  });
}

/** The artifact at /app.tgz and a checksums file at /SUMS with the given lines. */
function serve(sums = '') {
  return sandbox.serve((request, response) => {
    response.end(request.url === '/SUMS' ? sums : artifact);
  });
}

describe('require_checksum', () => {
  it('refuses a remote artifact with neither checksum nor checksums file, before fetching it', async () => {
    const server = await serve();
    const url = `${server.origin}/app.tgz`;
    const error = await rejection(install({ url }, { requireChecksum: true }));
    expect(error.code).toBe('FERRY_E_CHECKSUM_REQUIRED');
    expect(error.message).toBe(
      `artifact ${url}: expected a checksum or a checksums file to verify it against, got neither; add checksum (sha256:<hex>) or checksums (the URL of a SHA256SUMS file), or set require_checksum: false to install it unverified`,
    );
    expect(server.requests).toHaveLength(0);
    expect(await listTree(sandbox.root)).toEqual([]);
  });

  it.each(['s3://bucket/app.tgz', 'gs://bucket/app.tgz', 'https://user:secret@example.com/app.tgz'])(
    'counts %s as remote',
    async (url) => {
      const error = await rejection(install({ url }, { requireChecksum: true }));
      expect(error.code).toBe('FERRY_E_CHECKSUM_REQUIRED');
      expect(error.message).not.toContain('secret');
    },
  );

  it('never requires one for file://', async () => {
    const path = join(sandbox.root, 'app.tgz');
    await writeFile(path, artifact);
    const release = await install({ url: pathToFileURL(path).href }, { requireChecksum: true });
    expect(release.checksum).toBe(`sha256:${sha256(artifact)}`);
  });

  it('is satisfied by a checksums file alone', async () => {
    const server = await serve(`${sha256(artifact)}  app.tgz\n`);
    const release = await install(
      { url: `${server.origin}/app.tgz`, checksumsUrl: `${server.origin}/SUMS` },
      { requireChecksum: true },
    );
    expect(await readFile(join(release.dir, 'app.js'), 'utf8')).toBe('ok');
  });
});

describe('weak checksums', () => {
  it.each(['md5', 'sha1'])(
    'refuses a given %s checksum before fetching, naming the setting',
    async (algorithm) => {
      const server = await serve();
      const url = `${server.origin}/app.tgz`;
      const error = await rejection(install({ url, checksum: digest(algorithm) }));
      expect(error.code).toBe('FERRY_E_CHECKSUM_WEAK');
      expect(error.message).toBe(
        `artifact ${url}: expected a sha256 or sha512 checksum, got ${algorithm} (from the given checksum); ${algorithm} collisions can be forged, so give a sha256, or set allow_weak_checksums: true to accept it`,
      );
      expect(server.requests).toHaveLength(0);
    },
  );

  it('refuses a checksums file whose line for the artifact is sha1, without fetching the artifact', async () => {
    const server = await serve(`${sha256(artifact)}  other.tgz\n${digest('sha1')}  app.tgz\n`);
    const error = await rejection(
      install({ url: `${server.origin}/app.tgz`, checksumsUrl: `${server.origin}/SUMS` }),
    );
    expect(error.code).toBe('FERRY_E_CHECKSUM_WEAK');
    expect(error.message).toContain(
      `got sha1 (from the line for "app.tgz" in ${server.origin}/SUMS); sha1 collisions can be forged`,
    );
    expect(server.requests.map((request) => request.url)).toEqual(['/SUMS']);
  });

  it('judges only the line for the artifact, not the others of the file', async () => {
    const server = await serve(`${digest('md5')}  other.tgz\n${sha256(artifact)}  app.tgz\n`);
    const release = await install({
      url: `${server.origin}/app.tgz`,
      checksumsUrl: `${server.origin}/SUMS`,
    });
    expect(release.checksum).toBe(`sha256:${sha256(artifact)}`);
  });

  it('accepts md5 and sha1 when allowed, and verifies them', async () => {
    const server = await serve(`${digest('sha1')}  app.tgz\n`);
    const url = `${server.origin}/app.tgz`;
    const release = await install(
      { url, checksumsUrl: `${server.origin}/SUMS` },
      { allowWeakChecksums: true },
    );
    expect(release.checksum).toBe(`sha1:${digest('sha1')}`);
    const wrong = await rejection(
      install(
        { url, checksum: 'f'.repeat(32) },
        { allowWeakChecksums: true, releasesDir: join(sandbox.root, 'b') },
      ),
    );
    expect(wrong.code).toBe('FERRY_E_CHECKSUM_MISMATCH');
  });
});
