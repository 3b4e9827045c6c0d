import { createHash } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { listTree } from '../../artifacts/test-support/fs.js';
import { rejection } from '../../artifacts/test-support/harness.js';
import { useSandbox } from '../../artifacts/test-support/sandbox.js';
import { buildTar, gzip } from '../../artifacts/test-support/tar.js';
import { childInstaller } from './child-installer.js';

const sandbox = useSandbox();
const artifact = gzip(buildTar([{ path: 'app.js', body: 'ok' }]));
const checksum = `sha256:${createHash('sha256').update(artifact).digest('hex')}`;

describe('childInstaller', () => {
  it('installs a release in a process of its own and answers what it installed', async () => {
    const file = join(sandbox.root, 'app.tgz');
    await writeFile(file, artifact);
    const releasesDir = join(sandbox.root, 'releases');
    const installed = await childInstaller()({
      releasesDir,
      version: '1.0.0',
      source: { url: pathToFileURL(file).href, checksum },
    });
    expect(installed).toMatchObject({ version: '1.0.0', checksum, reused: false, readFrom: 'source' });
    expect(await readFile(join(releasesDir, '1.0.0', 'app.js'), 'utf8')).toBe('ok');
  });

  it("gives back the install's own error, code and message, and leaves nothing behind", async () => {
    const file = join(sandbox.root, 'app.tgz');
    await writeFile(file, artifact);
    const wrong = `sha256:${'0'.repeat(64)}`;
    const error = await rejection(
      childInstaller()({
        releasesDir: join(sandbox.root, 'releases'),
        version: '1.0.0',
        source: { url: pathToFileURL(file).href, checksum: wrong },
      }),
    );
    expect(error.code).toBe('FERRY_E_CHECKSUM_MISMATCH');
    expect(error.message).toContain(wrong);
    expect((await listTree(sandbox.root)).filter((p) => p.startsWith('releases/1.0.0'))).toEqual([]);
  });
});
