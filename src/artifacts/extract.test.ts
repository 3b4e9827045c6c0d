import { lstat, mkdir, readFile, readlink, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ErrorCode } from '../errors/catalog.js';
import { FerryError } from '../errors/ferry-error.js';
import { installRelease } from './install.js';
import { listTree, makeTempDir } from './test-support/fs.js';
import { buildTar, gzip, type RawEntry } from './test-support/tar.js';
import type { ExtractLimits, InstalledRelease } from './types.js';

let root: { path: string; remove: () => Promise<void> };
let releasesDir: string;
let sentinel: string;

beforeEach(async () => {
  root = await makeTempDir();
  releasesDir = join(root.path, 'app', 'releases');
  // Where the attacks aim: next to the releases and at absolute paths.
  sentinel = join(root.path, 'outside');
  await mkdir(sentinel);
  await mkdir(releasesDir, { recursive: true });
});

afterEach(async () => {
  await root.remove();
});

async function install(archive: Buffer, limits?: Partial<ExtractLimits>): Promise<InstalledRelease> {
  const file = join(root.path, `artifact-${Math.random().toString(36).slice(2)}.tar`);
  await writeFile(file, archive);
  return installRelease({
    releasesDir,
    version: '1.0.0',
    source: { url: pathToFileURL(file).href },
    limits,
    retries: 0,
  });
}

async function expectRejected(
  archive: Buffer,
  code: ErrorCode,
  message: string | RegExp,
  limits?: Partial<ExtractLimits>,
) {
  const error = await install(archive, limits).then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(FerryError);
  expect((error as FerryError).code).toBe(code);
  expect((error as FerryError).message).toMatch(message);
  // Nothing anywhere: no release, no temp dir, nothing next to it or at the target.
  expect(await listTree(releasesDir)).toEqual([]);
  expect(await listTree(sentinel)).toEqual([]);
  expect(await listTree(join(root.path, 'app'))).toEqual(['releases']);
}

const file = (path: string, body = 'x', extra: Partial<RawEntry> = {}): RawEntry => ({
  path,
  body,
  ...extra,
});

describe('malicious archives are rejected, and nothing is written anywhere', () => {
  it.each<[string, RawEntry[], string | RegExp]>([
    ['a ../ path', [file('ok.txt'), file('../outside/evil')], `entry "../outside/evil" has a '..' component`],
    ['a deeper ../ path', [file('a/../../outside/evil')], "has a '..' component"],
    [
      'an absolute path',
      [file('/tmp/ferry-evil-absolute')],
      'entry "/tmp/ferry-evil-absolute" is an absolute path',
    ],
    [
      'a ../ path hidden in a pax header',
      [file('innocent', 'x', { paxPath: '../outside/evil' })],
      `entry "../outside/evil" has a '..' component`,
    ],
    [
      'a symlink to an absolute path',
      [{ path: 'link', type: 'SymbolicLink', linkpath: '/etc' }],
      'entry "link" is a symlink to "/etc", outside the destination',
    ],
    [
      'a symlink climbing out',
      [{ path: 'd/link', type: 'SymbolicLink', linkpath: '../../outside' }],
      'is a symlink to "../../outside", outside',
    ],
    [
      'a symlink chain climbing out',
      [
        { path: 'sub/up', type: 'SymbolicLink', linkpath: '..' },
        { path: 'x', type: 'SymbolicLink', linkpath: 'sub/up/..' },
      ],
      'entry "x" is a symlink to "sub/up/..", outside',
    ],
    [
      'a symlink that only escapes through a later one',
      [
        { path: 'x', type: 'SymbolicLink', linkpath: 'sub/up/..' },
        { path: 'sub/up', type: 'SymbolicLink', linkpath: '..' },
      ],
      'entry "x" is a symlink to "sub/up/..", outside',
    ],
    [
      'a symlink out, then a file written through it',
      [{ path: 'a', type: 'SymbolicLink', linkpath: '/tmp' }, file('a/evil')],
      'entry "a" is a symlink to "/tmp", outside',
    ],
    [
      'a symlink inside, then a file written through it',
      [{ path: 'a', type: 'SymbolicLink', linkpath: 'sub' }, file('a/evil')],
      'entry "a/evil" would be written through the symlink "a"',
    ],
    [
      'a hard link to a file outside',
      [{ path: 'h', type: 'Link', linkpath: '../outside/secret' }],
      'entry "h" is a hard link to "../outside/secret", outside',
    ],
    [
      'a hard link to an absolute path',
      [{ path: 'h', type: 'Link', linkpath: '/etc/passwd' }],
      'is a hard link to "/etc/passwd", outside',
    ],
    [
      'a hard link to nothing',
      [{ path: 'h', type: 'Link', linkpath: 'missing' }],
      'is a hard link to "missing", not a file extracted before it',
    ],
    [
      'a hard link to a symlink',
      [
        { path: 's', type: 'SymbolicLink', linkpath: 'f' },
        file('f'),
        { path: 'h', type: 'Link', linkpath: 's' },
      ],
      'is a hard link to "s", not a file',
    ],
    [
      'a character device',
      [{ path: 'null', type: 'CharacterDevice' }],
      'entry "null" is a CharacterDevice; only files, directories and links are allowed',
    ],
    ['a block device', [{ path: 'sda', type: 'BlockDevice' }], 'entry "sda" is a BlockDevice'],
    ['a FIFO', [{ path: 'pipe', type: 'FIFO' }], 'entry "pipe" is a FIFO'],
    [
      'an entry of a type it does not know',
      [{ path: 'weird', type: 'SparseFile' }],
      'entry "weird" has the unsupported type SparseFile',
    ],
    [
      'a file named like the release record',
      [file('.ferry-release.json', '{}')],
      'reserves for its release record',
    ],
    [
      'a directory replaced by a file',
      [{ path: 'd', type: 'Directory' }, file('d')],
      'entry "d" would replace a directory',
    ],
  ])('%s', async (_name, entries, message) => {
    await expectRejected(buildTar(entries), 'FERRY_E_ARCHIVE_UNSAFE', message);
    await expectRejected(gzip(buildTar(entries)), 'FERRY_E_ARCHIVE_UNSAFE', message);
  });

  it('a tar bomb over the entry limit', async () => {
    const entries = Array.from({ length: 11 }, (_, index) => file(`f${index}`));
    await expectRejected(
      buildTar(entries),
      'FERRY_E_ARCHIVE_TOO_LARGE',
      /expected at most 10 entries, got at least 11/,
      {
        maxEntries: 10,
      },
    );
  });

  it('a tar bomb over the size limit, counted as what it costs on disk', async () => {
    // 6,600 bytes of data, but 2 + 1 blocks and two inodes: 14 KiB on disk.
    const entries = [file('a', 'x'.repeat(6000)), file('b', 'y'.repeat(600))];
    await expectRejected(
      gzip(buildTar(entries)),
      'FERRY_E_ARCHIVE_TOO_LARGE',
      'expected at most 10000 bytes on disk once unpacked, got at least 14336 (at "b"; each entry counts its size in 4 KiB blocks plus 1 KiB)',
      { maxBytes: 10_000 },
    );
  });

  it('counts the directories an entry path implies as entries', async () => {
    const deep = `${Array.from({ length: 30 }, (_, index) => `d${index}`).join('/')}/file`;
    await expectRejected(
      buildTar([file(deep)]),
      'FERRY_E_ARCHIVE_TOO_LARGE',
      'expected at most 10 entries, got at least 31',
      { maxEntries: 10 },
    );
  });

  it('a gzip bomb of padding after the archive', async () => {
    const bomb = gzip(Buffer.concat([buildTar([file('a')]), Buffer.alloc(20 * 1024 * 1024)]));
    await expectRejected(bomb, 'FERRY_E_ARCHIVE_TOO_LARGE', /expected a tar stream of more than/, {
      maxBytes: 1024 * 1024,
      maxEntries: 10,
    });
  });

  it('a truncated gzip', async () => {
    const whole = gzip(buildTar([file('a', 'some content '.repeat(1000))]));
    await expectRejected(
      whole.subarray(0, whole.length - 40),
      'FERRY_E_ARTIFACT_FORMAT',
      /expected a valid gzip stream, got unexpected end of file/,
    );
  });

  it('a corrupt gzip', async () => {
    const whole = gzip(buildTar([file('a', 'some content '.repeat(1000))]));
    whole.fill(0x55, 30, 60);
    await expectRejected(whole, 'FERRY_E_ARTIFACT_FORMAT', /expected a valid gzip stream/);
  });

  it('a truncated tar', async () => {
    const whole = buildTar([file('a', 'z'.repeat(5000))]);
    await expectRejected(
      whole.subarray(0, 2048),
      'FERRY_E_ARTIFACT_FORMAT',
      /expected a complete tar or tar.gz archive, got .*Truncated input/,
    );
  });

  it('something that is not an archive', async () => {
    await expectRejected(
      Buffer.from('<html>404 not found</html>\n'.repeat(40)),
      'FERRY_E_ARTIFACT_FORMAT',
      /expected a complete tar or tar.gz archive/,
    );
  });

  it('an empty file', async () => {
    await expectRejected(
      Buffer.alloc(0),
      'FERRY_E_ARTIFACT_FORMAT',
      /expected a complete tar or tar.gz archive/,
    );
  });
});

describe('what a safe archive may hold', () => {
  it('drops setuid, setgid and sticky bits', async () => {
    const release = await install(
      buildTar([
        { path: 'bin', type: 'Directory', mode: 0o3775 },
        file('bin/tool', '#!/bin/sh\n', { mode: 0o4755 }),
        file('bin/group', '#!/bin/sh\n', { mode: 0o2750 }),
      ]),
    );
    expect((await stat(join(release.dir, 'bin/tool'))).mode & 0o7777).toBe(0o755);
    expect((await stat(join(release.dir, 'bin/group'))).mode & 0o7777).toBe(0o750);
    expect((await stat(join(release.dir, 'bin'))).mode & 0o7777).toBe(0o775);
  });

  it('keeps symlinks and hard links that stay inside', async () => {
    const release = await install(
      buildTar([
        file('lib/v1/app.js', 'console.log(1)\n'),
        { path: 'lib/current', type: 'SymbolicLink', linkpath: 'v1' },
        { path: 'app.js', type: 'SymbolicLink', linkpath: 'lib/current/app.js' },
        { path: 'copy.js', type: 'Link', linkpath: 'lib/v1/app.js' },
        { path: 'lib/v1/self', type: 'SymbolicLink', linkpath: '../../lib' },
      ]),
    );
    expect(await readlink(join(release.dir, 'lib/current'))).toBe('v1');
    expect(await readFile(join(release.dir, 'app.js'), 'utf8')).toBe('console.log(1)\n');
    const [copy, original] = await Promise.all([
      stat(join(release.dir, 'copy.js')),
      stat(join(release.dir, 'lib/v1/app.js')),
    ]);
    expect(copy.ino).toBe(original.ino);
  });

  it('lets a later entry replace an earlier file or symlink of the same name, never following it', async () => {
    await writeFile(join(sentinel, 'target'), 'untouched');
    const release = await install(
      buildTar([
        file('a', 'first'),
        file('a', 'second'),
        { path: 'b', type: 'SymbolicLink', linkpath: 'a' },
        file('b', 'own content'),
      ]),
    );
    expect(await readFile(join(release.dir, 'a'), 'utf8')).toBe('second');
    expect(await readFile(join(release.dir, 'b'), 'utf8')).toBe('own content');
    expect((await lstat(join(release.dir, 'b'))).isFile()).toBe(true);
    expect(await readFile(join(sentinel, 'target'), 'utf8')).toBe('untouched');
  });

  it('restores modes of read-only directories only once they are filled', async () => {
    const release = await install(
      buildTar([{ path: 'ro', type: 'Directory', mode: 0o555 }, file('ro/inside', 'data', { mode: 0o444 })]),
    );
    expect(await readFile(join(release.dir, 'ro/inside'), 'utf8')).toBe('data');
    // Owner keeps rwx so the release can be pruned.
    expect((await stat(join(release.dir, 'ro'))).mode & 0o777).toBe(0o755);
    expect((await stat(join(release.dir, 'ro/inside'))).mode & 0o777).toBe(0o444);
  });
});
