import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmod, chown, lchown, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compileExcludes } from './excludes.js';
import { InstallLog } from './log.js';
import { runInstall } from './run.js';
import { syncTree } from './sync.js';
import { repoRoot } from './test-support/fixtures.js';
import { requireProgram } from '../lib/test-support/required-program.js';
import { rsyncArchive } from './test-support/rsync.js';
import { buildTree, describeTree, type TreeSpec } from './test-support/tree-spec.js';

const exec = promisify(execFile);
const isRoot = process.geteuid?.() === 0;
// Real rsync and tar to compare with (installed by `npm test`'s scripts/test-deps.mjs).
requireProgram('rsync');
requireProgram('tar');
const NOBODY = 65534;

/** A release as root unpacks it: owners that are not the installer's, and hard links. */
const OWNED_RELEASE: TreeSpec = {
  'app.js': { file: 'app', uid: 1234, gid: 2345 },
  'same.js': { file: 'same', uid: 1234, gid: 2345 },
  'shared.txt': { file: 'one inode, three names', uid: 1500, gid: 1501 },
  'alias.txt': { hardlink: 'shared.txt' },
  'lib/alias.txt': { hardlink: 'shared.txt' },
  'lib/': { dir: 0o750, uid: 3000, gid: 3001 },
  'lib/mod.js': { file: 'mod', mode: 0o640, uid: 0, gid: 3001 },
  'link-to-app': { symlink: 'app.js', uid: 4000, gid: 4001 },
  'root-owned': 'root',
  'pair-a': 'same content',
  'pair-b': 'same content',
};

/** dest before the sync: unchanged files with other owners, an unchanged hard-linked pair (rsync leaves it). */
const OWNED_DEST: TreeSpec = {
  'same.js': { file: 'same', uid: 0, gid: 0 },
  'lib/': { dir: 0o755 },
  'link-to-app': { symlink: 'app.js' },
  'pair-a': 'same content',
  'pair-b': { hardlink: 'pair-a' },
};

describe.skipIf(!isRoot)('owners and hard links, as root, against rsync -a --delete', () => {
  let work: string;
  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'ferry-sync-owners-'));
  });
  afterAll(async () => rm(work, { recursive: true, force: true }));

  it.each([
    ['moving files in from the staging tree', true],
    ['copying files', false],
  ] as const)(
    'syncTree keeps owners and makes hard links separate files, %s',
    async (_name, consumeSource) => {
      const root = join(work, consumeSource ? 'move' : 'copy');
      const [release, staged, rsyncDest, ferryDest] = ['release', 'staged', 'rsync', 'ferry'].map((name) =>
        join(root, name),
      ) as [string, string, string, string];
      await buildTree(release, OWNED_RELEASE);
      await chown(release, 1600, 1601);
      for (const dest of [rsyncDest, ferryDest]) await buildTree(dest, OWNED_DEST);
      await exec('cp', ['-a', release, staged]);

      expect((await rsyncArchive([`${release}/`, `${rsyncDest}/`])).code).toBe(0);
      await syncTree(staged, ferryDest, compileExcludes([]), { consumeSource });
      const synced = await describeTree(ferryDest);
      expect(synced).toEqual(await describeTree(rsyncDest));
      expect(synced).toContain('. dir 0755 1600:1601');
      expect(synced).toContain('hard links: pair-a = pair-b');
      expect(synced.filter((line) => line.startsWith('hard links'))).toHaveLength(1);
    },
  );

  it('ferry install gives dest the owners `tar xf` and `rsync -a` give it (stretcher)', async () => {
    const root = join(work, 'install');
    const tree = join(root, 'tree');
    await buildTree(tree, {
      ...OWNED_RELEASE,
      'keep.log': 'kept by the exclude_from include',
      'other.log': 'excluded',
      'exclude.txt': '+ keep.log\n',
      'sys/': { dir: 0o755, uid: 1, gid: 1 },
      'sys/daemon.conf': { file: 'owned by daemon', uid: 1, gid: 1 },
    });
    await chown(tree, 1600, 1601);
    // GNU tar's own format (its default) with numeric owners and with names this host maps to
    // other ids, and POSIX with such names.
    const archives = {
      gnu: join(root, 'gnu.tar'),
      'gnu-names': join(root, 'gnu-names.tar'),
      posix: join(root, 'posix.tar.gz'),
    };
    // The dest root's owner: the archive's ./ entry's, names mapped (daemon is 1, nogroup 65534 here).
    const rootOwner = { gnu: '1600:1601', 'gnu-names': '1:65534', posix: '1:65534' };
    const mappedNames = ['--owner=daemon:4242', '--group=nogroup:4343'];
    await exec('tar', ['-cf', archives.gnu, '-C', tree, '.']);
    await exec('tar', ['-cf', archives['gnu-names'], '-C', tree, ...mappedNames, '.']);
    await exec('tar', ['--format=posix', '-czf', archives.posix, '-C', tree, ...mappedNames, '.']);

    for (const format of ['gnu', 'gnu-names', 'posix'] as const) {
      const archive = archives[format];
      const [stretcherDest, ferryDest, unpacked] = ['dest-stretcher', 'dest-ferry', 'unpacked'].map((name) =>
        join(root, format, name),
      ) as [string, string, string];
      for (const dest of [stretcherDest, ferryDest]) {
        await buildTree(dest, { ...OWNED_DEST, 'debug.log': 'protected' });
      }

      // stretcher: `tar xf` in a temp dir as root, chmod dest_mode, rsync -a --delete.
      await mkdir(unpacked);
      await exec('tar', ['-xf', archive, '-C', unpacked]);
      await chmod(unpacked, 0o750);
      const excludeArgs = [`--exclude-from=${join(unpacked, 'exclude.txt')}`, '--exclude=*.log'];
      expect((await rsyncArchive([...excludeArgs, `${unpacked}/`, `${stretcherDest}/`])).code).toBe(0);

      const checksum = createHash('sha256')
        .update(await readFile(archive))
        .digest('hex');
      const manifest = join(root, format, 'manifest.yml');
      await writeFile(
        manifest,
        [
          `src: ${pathToFileURL(archive).href}`,
          `checksum: ${checksum}`,
          `dest: ${ferryDest}`,
          'dest_mode: 0750',
          'exclude_from: exclude.txt',
          'excludes: ["*.log"]',
        ].join('\n'),
      );
      const result = await runInstall({
        manifestUrl: pathToFileURL(manifest).href,
        timeoutMs: 0,
        retries: 0,
        retryWaitMs: 10,
        randomDelayMs: 0,
        maxBytesPerSecond: 0,
        commandTimeoutMs: 30_000,
        lockWaitMs: 30_000,
        log: new InstallLog(() => undefined),
      });
      expect(result).toMatchObject({ ok: true });

      const installed = await describeTree(ferryDest);
      expect(installed, format).toEqual(await describeTree(stretcherDest));
      expect(installed).toContain(`. dir 0750 ${rootOwner[format]}`);
      expect(installed.some((line) => line.startsWith('keep.log '))).toBe(true);
      expect(installed.some((line) => line.startsWith('other.log '))).toBe(false);
    }
  });
});

describe.skipIf(!isRoot)('owners as a user who is not root, against rsync -a --delete', () => {
  let work: string;
  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'ferry-sync-user-'));
    await chmod(work, 0o755);
  });
  afterAll(async () => rm(work, { recursive: true, force: true }));

  it('keeps the installer as owner, and a group only when the installer is a member', async () => {
    const [release, staged, rsyncDest, ferryDest] = ['release', 'staged', 'rsync', 'ferry'].map((name) =>
      join(work, name),
    ) as [string, string, string, string];
    // What the user unpacked (theirs), plus entries root left with other owners.
    const releaseSpec: TreeSpec = {
      'app.js': 'app',
      'same.js': 'same',
      'foreign-group.js': 'group 2345',
      'root-owned.js': 'owned by root',
      'shared.txt': 'two names',
      'alias.txt': { hardlink: 'shared.txt' },
      'lib/mod.js': 'mod',
    };
    for (const path of [release, staged]) {
      await buildTree(path, releaseSpec);
      await exec('chown', ['-R', `${NOBODY}:${NOBODY}`, path]);
      await lchown(join(path, 'foreign-group.js'), NOBODY, 2345);
      await lchown(join(path, 'root-owned.js'), 0, 0);
    }
    for (const dest of [rsyncDest, ferryDest]) {
      await buildTree(dest, { 'same.js': 'same', 'lib/old.js': 'old' });
      await exec('chown', ['-R', `${NOBODY}:0`, dest]);
    }
    const asNobody = { uid: NOBODY, gid: NOBODY };
    await exec('rsync', ['-a', '--delete', `${release}/`, `${rsyncDest}/`], asNobody);
    const syncCli = join(repoRoot, 'src/install/test-support/sync-cli.ts');
    await exec(process.execPath, ['--import', 'tsx', syncCli, staged, ferryDest], {
      ...asNobody,
      cwd: repoRoot,
    });

    const synced = await describeTree(ferryDest);
    expect(synced).toEqual(await describeTree(rsyncDest));
    expect(synced).toContain(`same.js file 0644 ${NOBODY}:${NOBODY} 4B 1704164645 ${digestOf('same')}`);
  });
});

function digestOf(content: string): string {
  return createHash('sha256').update(content).digest('hex').slice(0, 12);
}
