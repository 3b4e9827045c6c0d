import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import S3rver from 's3rver';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { installRelease } from './install.js';
import { resetS3Client } from './sources/s3.js';
import { makeTempDir } from './test-support/fs.js';
import { rejection, sha256 } from './test-support/harness.js';
import { buildTar, gzip } from './test-support/tar.js';

// A real S3-protocol server (s3rver) on 127.0.0.1, driven through the real AWS SDK.
let root: { path: string; remove: () => Promise<void> };
let server: S3rver;
let endpoint: string;

beforeAll(async () => {
  root = await makeTempDir();
  server = new S3rver({
    address: '127.0.0.1',
    port: 0,
    silent: true,
    directory: join(root.path, 's3'),
    configureBuckets: [{ name: 'releases' }],
  });
  const { port } = await server.run();
  endpoint = `http://127.0.0.1:${port}`;
});

afterAll(async () => {
  await server.close();
  await root.remove();
});

afterEach(() => {
  vi.unstubAllEnvs();
  resetS3Client();
});

/** The standard environment a host would have: region, keys, endpoint (s3rver's fixed keys). */
function useEnvironment(accessKey = 'S3RVER'): void {
  vi.stubEnv('AWS_REGION', 'us-east-1');
  vi.stubEnv('AWS_ACCESS_KEY_ID', accessKey);
  vi.stubEnv('AWS_SECRET_ACCESS_KEY', 'S3RVER');
  vi.stubEnv('AWS_ENDPOINT_URL_S3', endpoint);
  resetS3Client();
}

async function put(key: string, body: Buffer): Promise<void> {
  const client = new S3Client({
    region: 'us-east-1',
    endpoint,
    forcePathStyle: true,
    credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
  });
  await client.send(new PutObjectCommand({ Bucket: 'releases', Key: key, Body: body }));
  client.destroy();
}

function install(url: string, version = '1.0.0', checksum?: string) {
  return installRelease({
    releasesDir: join(root.path, `releases-${randomBytes(4).toString('hex')}`),
    version,
    source: { url, checksum },
    retries: 2,
    retryWaitMs: 5,
  });
}

describe('installRelease from s3://', () => {
  it('streams an object and installs it', async () => {
    useEnvironment();
    const payload = randomBytes(300 * 1024);
    const artifact = gzip(buildTar([{ path: 'app/data.bin', body: payload }]));
    await put('app/1.0.0/app.tar.gz', artifact);
    const release = await install('s3://releases/app/1.0.0/app.tar.gz', '1.0.0', sha256(artifact));
    expect(release.bytes).toBe(artifact.length);
    expect(sha256(await readFile(join(release.dir, 'app/data.bin')))).toBe(sha256(payload));
  });

  it('fails a missing key at once with a clear, non-retryable error', async () => {
    useEnvironment();
    const error = await rejection(install('s3://releases/app/none.tar.gz'));
    expect(error.code).toBe('FERRY_E_ARTIFACT_SOURCE');
    expect(error.message).toBe('GET s3://releases/app/none.tar.gz: expected an object, got NoSuchKey (404)');
    expect(error.details.retryable).toBe(false);
  });

  it('fails wrong credentials at once as access denied', async () => {
    useEnvironment('NOT-A-KEY');
    const error = await rejection(install('s3://releases/app/none.tar.gz'));
    expect(error.message).toMatch(
      /^GET s3:\/\/releases\/app\/none.tar.gz: expected access to the object, got \w+ \(403\)/,
    );
    expect(error.details.retryable).toBe(false);
  });

  it('retries when the endpoint does not answer, then gives up', async () => {
    useEnvironment();
    // A port nothing listens on: s3rver's, once closed, is not safe to reuse; port 1 is never ours.
    vi.stubEnv('AWS_ENDPOINT_URL_S3', 'http://127.0.0.1:1');
    resetS3Client();
    const error = await rejection(install('s3://releases/app/a.tar.gz'));
    expect(error.details.retryable).toBe(true);
    expect(error.details.attempts).toBe(3);
  });
});
