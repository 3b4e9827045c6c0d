import { lstat, mkdir, readFile, readlink, symlink, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isFerryError } from '../errors/ferry-error.js';
import { RELEASE_RECORD } from './archive-plan.js';
import { activateRelease, currentRelease, listReleases, pruneReleases } from './releases.js';
import { listTree, makeTempDir } from './test-support/fs.js';

let root: { path: string; remove: () => Promise<void> };
let releasesDir: string;

beforeEach(async () => {
  root = await makeTempDir();
  releasesDir = join(root.path, 'releases');
  await mkdir(releasesDir);
});

afterEach(async () => {
  await root.remove();
});

/** A release as installRelease leaves it; installed in the given minute, so ordering is explicit. */
async function fakeRelease(version: string, minute: number): Promise<void> {
  const dir = join(releasesDir, version);
  await mkdir(join(dir, 'bin'), { recursive: true });
  await writeFile(join(dir, 'bin', 'app'), version);
  const installedAt = new Date(Date.UTC(2025, 0, 1, 0, minute)).toISOString();
  await writeFile(
    join(dir, RELEASE_RECORD),
    JSON.stringify({ version, checksum: `sha256:${'a'.repeat(64)}`, installedAt }),
  );
}

describe('activateRelease and currentRelease', () => {
  it('points current at the release with a relative symlink, and switches it', async () => {
    await fakeRelease('1.0.0', 1);
    await fakeRelease('1.1.0', 2);
    expect(await currentRelease(releasesDir)).toBeNull();

    await activateRelease(releasesDir, '1.0.0');
    expect(await readlink(join(releasesDir, 'current'))).toBe('1.0.0');
    expect(await currentRelease(releasesDir)).toBe('1.0.0');

    await activateRelease(releasesDir, '1.1.0');
    expect(await currentRelease(releasesDir)).toBe('1.1.0');
    expect(await readFile(join(releasesDir, 'current', 'bin', 'app'), 'utf8')).toBe('1.1.0');
    // No temp link left behind: the switch was a rename.
    expect((await listTree(releasesDir)).filter((path) => !path.includes('/'))).toEqual([
      '1.0.0',
      '1.1.0',
      'current',
    ]);
  });

  it('current is never missing while switching back and forth', async () => {
    await fakeRelease('1.0.0', 1);
    await fakeRelease('1.1.0', 2);
    await activateRelease(releasesDir, '1.0.0');
    let missing = 0;
    let switching = true;
    const watcher = (async () => {
      while (switching) {
        await lstat(join(releasesDir, 'current')).catch(() => (missing += 1));
      }
    })();
    for (let round = 0; round < 50; round++)
      await activateRelease(releasesDir, round % 2 === 0 ? '1.1.0' : '1.0.0');
    switching = false;
    await watcher;
    expect(missing).toBe(0);
  });

  it('refuses a version that is not installed', async () => {
    await activateRelease(releasesDir, '9.9.9').then(
      () => expect.fail('activated a missing release'),
      (error: unknown) => {
        expect(isFerryError(error, 'FERRY_E_RELEASE_UNKNOWN')).toBe(true);
        expect((error as Error).message).toContain('expected an installed release');
      },
    );
    expect(await currentRelease(releasesDir)).toBeNull();
  });

  it('knows nothing of a current link pointing elsewhere', async () => {
    await symlink('/usr', join(releasesDir, 'current'));
    expect(await currentRelease(releasesDir)).toBeNull();
  });
});

describe('listReleases', () => {
  it('lists installed releases by install time, ignoring temp dirs, current and strangers', async () => {
    await fakeRelease('b-second', 2);
    await fakeRelease('a-third', 3);
    await fakeRelease('c-first', 1);
    await mkdir(join(releasesDir, '.tmp-2.0.0-abc'));
    await mkdir(join(releasesDir, 'not-a-release'));
    await activateRelease(releasesDir, 'a-third');
    expect(await listReleases(releasesDir)).toEqual(['c-first', 'b-second', 'a-third']);
  });

  it('is empty when the directory does not exist', async () => {
    expect(await listReleases(join(root.path, 'nope'))).toEqual([]);
  });
});

describe('pruneReleases', () => {
  beforeEach(async () => {
    for (const [index, version] of ['1', '2', '3', '4', '5', '6'].entries())
      await fakeRelease(version, index);
  });

  it('removes the oldest beyond keep', async () => {
    await activateRelease(releasesDir, '6');
    expect(await pruneReleases(releasesDir, { keep: 3, protect: [] })).toEqual(['1', '2', '3']);
    expect(await listReleases(releasesDir)).toEqual(['4', '5', '6']);
  });

  it('never removes a protected release nor the current one', async () => {
    await activateRelease(releasesDir, '2');
    const removed = await pruneReleases(releasesDir, { keep: 1, protect: ['1'] });
    expect(removed).toEqual(['3', '4', '5']);
    expect(await listReleases(releasesDir)).toEqual(['1', '2', '6']);
    expect(await currentRelease(releasesDir)).toBe('2');
  });

  it('keep 0 leaves only what is protected', async () => {
    await activateRelease(releasesDir, '4');
    await pruneReleases(releasesDir, { keep: 0, protect: [] });
    expect(await listReleases(releasesDir)).toEqual(['4']);
  });

  it('removes leftovers of an interrupted prune and nothing else', async () => {
    await mkdir(join(releasesDir, '.trash-0-abcdef', 'deep'), { recursive: true });
    await mkdir(join(releasesDir, '.tmp-7-abcdef'));
    await pruneReleases(releasesDir, { keep: 10, protect: [] });
    const topLevel = (await listTree(releasesDir)).filter((path) => !path.includes('/'));
    expect(topLevel).toEqual(['.tmp-7-abcdef', '1', '2', '3', '4', '5', '6']);
  });

  it('rejects a negative keep', async () => {
    await expect(pruneReleases(releasesDir, { keep: -1, protect: [] })).rejects.toThrow(
      'prune keep: expected an integer >= 0, got -1',
    );
  });

  it('orders by install time, not by name or mtime', async () => {
    await fakeRelease('0-newest', 30);
    await utimes(join(releasesDir, '0-newest'), new Date(0), new Date(0));
    expect(await pruneReleases(releasesDir, { keep: 1, protect: [] })).toEqual([
      '1',
      '2',
      '3',
      '4',
      '5',
      '6',
    ]);
  });
});
