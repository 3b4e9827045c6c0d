import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startS3, type TestS3 } from '../artifacts/test-support/s3.js';
import { InstallLog } from './log.js';
import { runInstall } from './run.js';
import { makeWorkspace, packArchive, writeTree } from './test-support/fixtures.js';

// The usual stretcher setup: manifest and archive both in a bucket, reached through the real AWS
// SDK with the standard environment variables.
let workspace: { dir: string; remove: () => Promise<void> };
let s3: TestS3;

beforeAll(async () => {
  workspace = await makeWorkspace();
  s3 = await startS3(workspace.dir, 'deploy');
  s3.useEnvironment();
});

afterAll(async () => {
  await s3.close();
  await workspace.remove();
});

function install(manifestUrl: string, lines: string[] = []) {
  return runInstall({
    manifestUrl,
    env: { APP_VERSION: '1.0.0' },
    timeoutMs: 0,
    retries: 0,
    retryWaitMs: 10,
    randomDelayMs: 0,
    maxBytesPerSecond: 0,
    commandTimeoutMs: 0,
    lockWaitMs: 10_000,
    log: new InstallLog((line) => lines.push(line)),
  });
}

describe('ferry install from S3', () => {
  it('reads an s3:// manifest whose src is s3://, and deploys it', async () => {
    const { dir } = workspace;
    await writeTree(join(dir, 'tree'), { 'foo/baz': 'baz\n', bar: 'bar\n' });
    const { checksum, bytes } = await packArchive(join(dir, 'tree'), join(dir, 'app.tgz'));
    await s3.put('app/1.0.0.tgz', bytes);
    const dest = join(dir, 'dest');
    await s3.put(
      'app/manifest.yml',
      `src: s3://deploy/app/{{ env "APP_VERSION" }}.tgz\nchecksum: ${checksum}\ndest: ${dest}\n`,
    );
    const lines: string[] = [];
    const result = await install('s3://deploy/app/manifest.yml', lines);
    expect(result.ok, lines.join('\n')).toBe(true);
    expect(await readFile(join(dest, 'foo/baz'), 'utf8')).toBe('baz\n');
    expect(await readFile(join(dest, 'bar'), 'utf8')).toBe('bar\n');
  });

  it('names a missing manifest object', async () => {
    const result = await install('s3://deploy/app/missing.yml');
    expect(result.ok ? '' : String(result.error)).toMatch(
      /manifest: GET s3:\/\/deploy\/app\/missing\.yml: expected an object, got NoSuchKey \(404\)/,
    );
  });
});
