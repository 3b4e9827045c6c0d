import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requireProgram } from '../lib/test-support/required-program.js';
import { compileExcludes } from './excludes.js';
import { FileList } from './file-list.js';
import { syncTree } from './sync.js';
import { rsyncArchive } from './test-support/rsync.js';
import { buildTree, type TreeSpec } from './test-support/tree-spec.js';

// Real rsync to compare with (installed by `npm test`'s scripts/test-deps.mjs).
requireProgram('rsync');
const exec = promisify(execFile);

const RELEASE: TreeSpec = {
  bar: 'bar, new',
  'foo/baz': 'baz',
  'keep/same': 'same',
  'keep/changed': 'changed, longer',
  'keep/deeper/new': 'new',
  'link-to-bar': { symlink: 'bar' },
  'x.pid': 'excluded',
  'keep.log': 'included',
  'debug.log': 'excluded',
  'tmp/a': 'excluded directory',
};
const DEST: TreeSpec = {
  'keep/same': 'same',
  'keep/changed': 'changed',
  'old/sub/x': 'x',
  'old/y': 'y',
  stale: 'stale',
  'run.pid': 'protected',
  'old.log': 'protected',
  'tmp/b': 'protected',
};
const RULES = ['+ keep.log', '*.pid', '*.log', 'tmp/'];

/** The file list rsync prints between its header and its summary. */
function rsyncList(output: string): string[] {
  const lines = output.split('\n');
  const start = lines.indexOf('sending incremental file list') + 1;
  const end = lines.indexOf('', start);
  return lines
    .slice(start, end)
    .filter((line) => line !== './' && !line.startsWith('delta-transmission') && !line.startsWith('total:'));
}

describe("ferry install's file list against rsync -v", () => {
  let work: string;
  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'ferry-file-list-'));
  });
  afterAll(async () => rm(work, { recursive: true, force: true }));

  it.each([
    ['-v', 1],
    ['-vv', 2],
  ] as const)(
    'rsync %s: the same entries, deletions first, a directory after its contents',
    async (flag, v) => {
      const root = join(work, flag);
      const release = join(root, 'release');
      const [rsyncDest, ferryDest] = [join(root, 'dest-rsync'), join(root, 'dest-ferry')];
      await buildTree(release, RELEASE);
      for (const dest of [rsyncDest, ferryDest]) await buildTree(dest, DEST);
      const staged = join(root, 'staged');
      await exec('cp', ['-a', release, staged]);

      const rsync = await rsyncArchive([
        flag,
        ...RULES.map((rule) => `--exclude=${rule}`),
        `${release}/`,
        `${rsyncDest}/`,
      ]);
      expect(rsync.code, rsync.output).toBe(0);
      const list = new FileList(v);
      await syncTree(staged, ferryDest, compileExcludes(RULES), {
        consumeSource: true,
        onChange: (change) => list.add(change),
      });

      const expected = rsyncList(rsync.output);
      const lines = list.lines();
      expect([...lines].sort()).toEqual([...expected].sort());
      const deletions = (list: string[]) => list.filter((line) => line.startsWith('deleting '));
      expect(deletions(lines)).toEqual(deletions(expected));
      // Deletions come before the transfers, as rsync deletes first.
      const firstTransfer = lines.findIndex((line) => !line.startsWith('deleting ') && !line.startsWith('['));
      expect(lines.findLastIndex((line) => line.startsWith('deleting '))).toBeLessThan(firstTransfer);
    },
  );

  it('lists nothing at verbosity 0', () => {
    const list = new FileList(0);
    list.add({ action: 'transfer', path: 'a' });
    expect(list.wanted).toBe(false);
  });
});
