import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { FerryError } from '../errors/ferry-error.js';
import { installRelease } from './install.js';
import { explainMissingRelease, listFileVersions } from './release-unknown.js';
import { listTree, makeTempDir } from './test-support/fs.js';
import { rejection, sha256 } from './test-support/harness.js';
import { startServer, type TestServer } from './test-support/http-server.js';
import { buildTar, gzip } from './test-support/tar.js';

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

/**
 * What a deployment does with an app's artifact settings: fill {version} in, install, and explain
 * a missing artifact. A retry would wait a minute: a test that retried a permanent error times out.
 */
async function deploy(
  version: string,
  templates: { url: string; checksumsUrl?: string },
  retries = 3,
): Promise<FerryError> {
  const fill = (url: string) => url.replaceAll('{version}', encodeURIComponent(version));
  const source = {
    url: fill(templates.url),
    checksumsUrl: templates.checksumsUrl ? fill(templates.checksumsUrl) : null,
  };
  const lookup = {
    app: 'hello',
    env: 'production',
    version,
    templates: { url: templates.url, checksumsUrl: templates.checksumsUrl ?? null },
    source,
  };
  return rejection(
    installRelease({ releasesDir, version, source, retries, retryWaitMs: 60_000 }).catch(
      async (error: unknown) => {
        throw await explainMissingRelease(error, lookup);
      },
    ),
  );
}

const artifact = gzip(buildTar([{ path: 'server.mjs', body: 'ok' }]));

describe('a version that does not exist: FERRY_E_RELEASE_UNKNOWN', () => {
  it('names the file looked for and the versions found beside it, newest last, without retrying', async () => {
    const dist = join(root.path, 'dist');
    await mkdir(dist);
    for (const name of [
      'hello-1.10.0.tar.gz',
      'hello-1.9.0.tar.gz',
      'hello-1.0.0.tar.gz',
      'hello-current.tar.gz', // not a version a release may have
      'other-2.0.0.tar.gz',
      'SHA256SUMS',
    ])
      await writeFile(join(dist, name), artifact);
    const error = await deploy('9.9.9', { url: `${pathToFileURL(dist).href}/hello-{version}.tar.gz` });
    expect(error.code).toBe('FERRY_E_RELEASE_UNKNOWN');
    expect(error.message).toBe(
      `no release "9.9.9" of hello: artifact file ${dist}/hello-9.9.9.tar.gz does not exist; versions found in ${dist}: 1.0.0, 1.9.0, 1.10.0`,
    );
    expect(error.details).toMatchObject({
      app: 'hello',
      env: 'production',
      version: '9.9.9',
      where: `${pathToFileURL(dist).href}/hello-9.9.9.tar.gz`,
      found: ['1.0.0', '1.9.0', '1.10.0'],
      foundTotal: 3,
    });
    expect(await listTree(releasesDir)).toEqual([]);
  });

  it('lists versions kept as directories, a bounded list of the newest', async () => {
    const dist = join(root.path, 'builds');
    for (let minor = 0; minor < 25; minor++) {
      await mkdir(join(dist, `1.${minor}.0`), { recursive: true });
      await writeFile(join(dist, `1.${minor}.0`, 'hello.tgz'), artifact);
    }
    await mkdir(join(dist, '2.0.0-incomplete')); // no artifact in it: not a version
    const error = await deploy('3.0.0', { url: `${pathToFileURL(dist).href}/{version}/hello.tgz` });
    expect(error.code).toBe('FERRY_E_RELEASE_UNKNOWN');
    expect(error.details.found).toEqual(Array.from({ length: 20 }, (_, n) => `1.${n + 5}.0`));
    expect(error.details.foundTotal).toBe(25);
    expect(error.message).toMatch(/: 1\.5\.0, 1\.6\.0, .*, 1\.24\.0 \(and 5 older\)$/);
  });

  it('says so when nothing is found, and when the directory itself is missing', async () => {
    const empty = join(root.path, 'empty');
    await mkdir(empty);
    const none = await deploy('1.0.0', { url: `${pathToFileURL(empty).href}/hello-{version}.tgz` });
    expect(none.message).toMatch(new RegExp(`; no versions found in ${empty}$`));
    const gone = await deploy('1.0.0', { url: `file://${root.path}/nowhere/hello-{version}.tgz` });
    expect(gone.code).toBe('FERRY_E_RELEASE_UNKNOWN');
    expect(gone.message).toMatch(/does not exist$/);
  });

  it.each([404, 410])(
    'over http: %i names the URL (without credentials) and is not retried',
    async (status) => {
      const server = await serve((_request, response) => response.writeHead(status).end('no'));
      const origin = server.origin.replace('http://', 'http://deploy:hunter2@');
      const error = await deploy('9.9.9', {
        url: `${origin}/releases/hello-{version}.tgz?token=s3cr3t-value`,
      });
      expect(error.code).toBe('FERRY_E_RELEASE_UNKNOWN');
      expect(error.message).toMatch(
        new RegExp(
          `^no release "9\\.9\\.9" of hello: GET ${server.origin}/releases/hello-9\\.9\\.9\\.tgz\\?token=\\*\\*\\*: expected HTTP 200, got ${status} `,
        ),
      );
      expect(error.details.where).toBe(`${server.origin}/releases/hello-9.9.9.tgz?token=***`);
      expect(JSON.stringify(error)).not.toMatch(/hunter2|s3cr3t/);
      expect(server.requests).toHaveLength(1);
    },
  );

  it('a checksums file made from the version and missing is an unknown release too', async () => {
    const server = await serve((_request, response) => response.writeHead(404).end());
    const error = await deploy('9.9.9', {
      url: `${server.origin}/v{version}/hello.tgz`,
      checksumsUrl: `${server.origin}/v{version}/SHA256SUMS`,
    });
    expect(error.code).toBe('FERRY_E_RELEASE_UNKNOWN');
    expect(error.details.where).toBe(`${server.origin}/v9.9.9/SHA256SUMS`);
    expect(server.requests.map((r) => r.url)).toEqual(['/v9.9.9/SHA256SUMS']);
  });

  it('a version its checksums file does not list, and no file of it: an unknown release', async () => {
    const dist = join(root.path, 'dist');
    await mkdir(dist);
    await writeFile(join(dist, 'hello-1.0.0.tgz'), artifact);
    await writeFile(join(dist, 'SHA256SUMS'), `${sha256(artifact)}  hello-1.0.0.tgz\n`);
    const templates = {
      url: `${pathToFileURL(dist).href}/hello-{version}.tgz`,
      checksumsUrl: `${pathToFileURL(dist).href}/SHA256SUMS`,
    };
    const error = await deploy('9.9.9', templates);
    expect(error.code).toBe('FERRY_E_RELEASE_UNKNOWN');
    expect(error.message).toBe(
      `no release "9.9.9" of hello: ${templates.checksumsUrl}: expected an entry for "hello-9.9.9.tgz", got 1 entries for other files; versions found in ${dist}: 1.0.0`,
    );
    // The file is there but not listed: that is the checksums file's problem, not the version's.
    await writeFile(join(dist, 'hello-2.0.0.tgz'), artifact);
    expect((await deploy('2.0.0', templates)).code).toBe('FERRY_E_CHECKSUM_INVALID');
  });

  it('a missing URL that does not depend on the version stays a source error', async () => {
    const server = await serve((_request, response) => response.writeHead(404).end());
    const error = await deploy('9.9.9', { url: `${server.origin}/latest.tgz` });
    expect(error.code).toBe('FERRY_E_ARTIFACT_SOURCE');
    expect(server.requests).toHaveLength(1);
  });
});

describe('retries: permanent errors fail at once, transient ones are retried', () => {
  it.each([401, 403])('%i: access denied, one request, a source error', async (status) => {
    const server = await serve((_request, response) => response.writeHead(status).end());
    const error = await deploy('1.0.0', { url: `${server.origin}/hello-{version}.tgz` });
    expect(error.code).toBe('FERRY_E_ARTIFACT_SOURCE');
    expect(error.details).toMatchObject({ status, retryable: false });
    expect(server.requests).toHaveLength(1);
  });

  it('a 5xx and a connection cut are retried, then the release installs', async () => {
    const server = await serve((_request, response, number) => {
      if (number === 1) response.writeHead(502).end();
      else if (number === 2) response.socket?.destroy();
      else response.end(artifact);
    });
    const release = await installRelease({
      releasesDir,
      version: '1.0.0',
      source: { url: `${server.origin}/hello-1.0.0.tgz`, checksum: sha256(artifact) },
      retries: 3,
      retryWaitMs: 5,
    });
    expect(release.version).toBe('1.0.0');
    expect(server.requests).toHaveLength(3);
  });
});

describe('listFileVersions', () => {
  it('is null for a directory it cannot read, and matches a repeated {version} only when both agree', async () => {
    expect(await listFileVersions(`file://${root.path}/missing/{version}.tgz`)).toBeNull();
    await writeFile(join(root.path, 'app-1.0-1.0.tgz'), '');
    await writeFile(join(root.path, 'app-1.0-2.0.tgz'), '');
    expect(await listFileVersions(`file://${root.path}/app-{version}-{version}.tgz`)).toEqual({
      dir: root.path,
      versions: ['1.0'],
      total: 1,
    });
  });
});
