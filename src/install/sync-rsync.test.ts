import { execFile } from 'node:child_process';
import fc from 'fast-check';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FerryError } from '../errors/ferry-error.js';
import { compileExcludes, parseExcludeFile } from './excludes.js';
import { syncTree } from './sync.js';
import { requireProgram } from '../lib/test-support/required-program.js';
import { rsyncArchive } from './test-support/rsync.js';
import { buildTree, describeTree, type TreeSpec } from './test-support/tree-spec.js';

const exec = promisify(execFile);
// Real rsync to compare with (installed by `npm test`'s scripts/test-deps.mjs).
requireProgram('rsync');

/** A release with something for every pattern form below. */
const RELEASE: TreeSpec = {
  'app.js': 'app',
  'script.sh': { file: '#!/bin/sh\n', mode: 0o755 },
  'test.pid': 'new pid',
  'keep.log': 'keep',
  'debug.log': 'debug',
  'logs/a.log': 'a',
  'logs/sub/b.log': 'b',
  'logs/readme': 'readme',
  'foo/baz': 'baz',
  'foo/bar/baz': 'deep baz',
  'foo/qux': 'qux',
  'x/foo/baz': 'x baz',
  bar: 'bar',
  tmp: 'a file named tmp',
  'build/tmp/out': 'out',
  'cache/x': 'cache x',
  'cache/sub/y': 'cache y',
  'config/app.yml': 'app: 1',
  'config/local.yml': 'local: 1',
  'data1.txt': '1',
  'data2.txt': '2',
  'dataX.txt': 'X',
  'data]': ']',
  'data[1': 'literal bracket',
  'Upper.md': 'upper',
  'star*.txt': 'a star in the name',
  'back\\slash': 'a backslash in the name',
  'café.txt': 'utf-8',
  'deep/a/b/c/file.o': 'object',
  'deep/a/file.o': 'object',
  '.hidden': 'hidden',
  'link-to-app': { symlink: 'app.js' },
  'private/': { dir: 0o700 },
};

/** What dest holds before the sync: stale files, files the release changes, files to protect. */
const DEST: TreeSpec = {
  'test.pid': 'old pid',
  'stale.txt': 'stale',
  'stale.pid': 'stale pid',
  'logs/old.log': 'old log',
  'logs/sub/old.log': 'old log',
  'cache/keep-me': 'cached',
  'olddir/x.pid': 'pid in a directory the release no longer has',
  'olddir/y': 'y',
  'olddir/deeper/z.pid': 'z',
  'foo/baz': 'older baz',
  'foo/old': 'old',
  'tmp/': { dir: 0o755 },
  'tmp/inside': 'was a directory',
  'app.js': { file: 'same size, same mtime: left alone', mode: 0o600 },
};

interface Case {
  name: string;
  /** `--exclude=<item>` each, after the file. */
  excludes?: string[];
  /** An `--exclude-from` file in the release. */
  excludeFrom?: string;
  release?: TreeSpec;
  dest?: TreeSpec;
  /** rsync's exit code when it is not 0; Ferry's sync must fail then (with this code). */
  fails?: { rsync: number; ferry: string };
}

const stretcherRelease: TreeSpec = { 'foo/baz': 'baz\n', bar: 'bar\n', 'exclude.txt': '*.pid\nbaz\n' };

const CASES: Case[] = [
  { name: 'no excludes: stale files deleted, changed ones updated' },
  {
    name: "stretcher's test: excludes *.pid and baz keep test.pid and skip foo/baz",
    excludes: ['*.pid', 'baz'],
    release: stretcherRelease,
    dest: { 'test.pid': '1234' },
  },
  {
    name: "stretcher's test: exclude_from with *.pid and baz",
    excludeFrom: '*.pid\nbaz\n',
    release: stretcherRelease,
    dest: { 'test.pid': '1234' },
  },
  {
    name: 'the issue: - *.pid, + keep.log, *.log',
    excludes: ['- *.pid', '+ keep.log', '*.log'],
  },
  { name: 'first match wins: an include after the exclude has no effect', excludes: ['*.log', '+ keep.log'] },
  { name: '! clears the rules before it', excludes: ['*.log', '!', '*.pid'] },
  {
    name: '! in the exclude_from file, then excludes',
    excludeFrom: '*.log\n!\n*.yml\n',
    excludes: ['*.pid'],
  },
  { name: 'exclude_from comes before excludes', excludeFrom: '+ keep.log\n', excludes: ['*.log'] },
  {
    name: 'exclude_from: comments, blank lines, CRLF, leading spaces kept',
    excludeFrom: '# a comment\n\n; another\r\n*.pid\r\n  *.log\nbaz\n',
  },
  { name: 'a name without a slash matches at any depth', excludes: ['baz'] },
  { name: 'a leading / anchors at the root', excludes: ['/tmp', '/baz'] },
  { name: 'a trailing / matches directories only', excludes: ['tmp/'] },
  { name: 'an inner / matches the last components', excludes: ['foo/baz'] },
  { name: 'anchored with a slash', excludes: ['/foo/baz'] },
  { name: '* stays within a component', excludes: ['*/baz', 'logs/*'] },
  { name: '** crosses slashes', excludes: ['/foo/**', 'deep/**/file.o'] },
  { name: 'a leading ** matches at the root too', excludes: ['**/baz', '**.o'] },
  { name: 'dir/*** is the directory and all below', excludes: ['cache/***', '/logs/***'] },
  { name: '? is one character (one byte)', excludes: ['data?.txt', 'caf?.txt'] },
  { name: '? on a two-byte character', excludes: ['caf??.txt'] },
  { name: 'character classes and ranges', excludes: ['data[0-9].txt', '[[:upper:]]*', 'ba[z-a]'] },
  { name: 'negated classes', excludes: ['data[!0-9].txt', 'ba[^z]'] },
  { name: '] first in a class is a member', excludes: ['data[]]'] },
  { name: 'an unterminated class never matches', excludes: ['data[1'] },
  { name: 'a backslash escapes a wildcard', excludes: ['star\\*.txt'] },
  { name: 'a backslash without wildcards is literal', excludes: ['back\\slash'] },
  {
    name: 'an excluded directory is not entered: a later include is not reached',
    excludes: ['- cache/', '+ cache/x'],
  },
  {
    name: 'an include of a file below an excluded directory does not bring it back',
    excludes: ['+ cache/x', 'cache'],
  },
  { name: 'include dirs and .log only', excludes: ['+ */', '+ *.log', '- *'] },
  { name: '* excludes everything: dest is all protected, its root still synced', excludes: ['*'] },
  { name: 'an include lifts the protection of a dest file', excludes: ['+ stale.txt', '*.txt', '*.pid'] },
  {
    name: 'a directory the release no longer has keeps its excluded entries',
    excludes: ['*.pid'],
  },
  {
    name: 'long forms and modifiers are patterns in an exclude list',
    excludes: ['exclude *.pid', 'include keep.log', '-, *.log', '-! */', 'P *.txt', 'clear'],
  },
  { name: 'trailing spaces are part of the pattern', excludes: ['*.pid ', 'baz '] },
  { name: '- ! is a pattern, ! with text too', excludes: ['- !', '!*.log'] },
  { name: 'hidden files and symlinks match like any name', excludes: ['.*', 'link-*'] },
  {
    name: 'a directory with excluded entries cannot make way for a file (rsync: exit 23)',
    excludes: ['*.pid'],
    release: { x: 'now a file', other: 'synced anyway' },
    dest: { 'x/a.pid': 'protected', 'x/b': 'deleted' },
    fails: { rsync: 23, ferry: 'FERRY_E_DEST_NOT_EMPTY' },
  },
  {
    name: 'a rule with a prefix and no pattern is refused (rsync: exit 1), dest untouched',
    excludes: ['*.pid', '- '],
    fails: { rsync: 1, ferry: 'FERRY_E_MANIFEST_INVALID' },
  },
];

describe('the rsync strategy against rsync -a --delete', () => {
  let work: string;
  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'ferry-sync-rsync-'));
  });
  afterAll(async () => rm(work, { recursive: true, force: true }));

  it.each(CASES.map((c, index) => [c.name, c, index] as const))('%s', async (_name, testCase, index) => {
    const root = join(work, `case-${index}`);
    const release = join(root, 'release');
    const staged = join(root, 'staged');
    const [rsyncDest, ferryDest] = [join(root, 'dest-rsync'), join(root, 'dest-ferry')];
    const releaseSpec = testCase.release ?? RELEASE;
    await buildTree(release, releaseSpec);
    if (testCase.excludeFrom !== undefined)
      await writeFile(join(release, 'exclude.txt'), testCase.excludeFrom);
    for (const dest of [rsyncDest, ferryDest]) await buildTree(dest, testCase.dest ?? DEST);
    // What ferry install syncs from: the unpacked release, which it consumes.
    await exec('cp', ['-a', release, staged]);

    const args = [
      ...(testCase.excludeFrom === undefined ? [] : [`--exclude-from=${join(release, 'exclude.txt')}`]),
      ...(testCase.excludes ?? []).map((item) => `--exclude=${item}`),
    ];
    const rsync = await rsyncArchive([...args, `${release}/`, `${rsyncDest}/`]);
    expect(rsync.code, rsync.output).toBe(testCase.fails?.rsync ?? 0);

    // As run.ts composes them: the exclude_from file's rules, then the items.
    const ferry = (async () => {
      const rules = testCase.excludeFrom === undefined ? [] : parseExcludeFile(testCase.excludeFrom);
      rules.push(...(testCase.excludes ?? []));
      return syncTree(staged, ferryDest, compileExcludes(rules), { consumeSource: true });
    })();
    if (testCase.fails === undefined) await ferry;
    else
      await expect(ferry).rejects.toSatisfy(
        (error) => error instanceof FerryError && error.code === testCase.fails?.ferry,
      );

    expect(await describeTree(ferryDest)).toEqual(await describeTree(rsyncDest));
  });
});

/** Names that wildcards, classes and escapes can tell apart, at several depths. */
const RANDOM_RELEASE: TreeSpec = {
  ab: '1',
  ba: '2',
  'a.b': '3',
  '.a': '4',
  'x*': '5',
  '[a]': '6',
  'a/ab': '7',
  'a/b/ab': '8',
  'a/b/a.b': '9',
  'a/b/c/a': '10',
  'b/a': '11',
  'b/ab/x': '12',
  'c/a.b/b': '13',
};
const RANDOM_DEST: TreeSpec = {
  aa: 'dest only',
  '.b': 'dest only',
  'a/aa': 'dest only',
  'a/b/aa.b': 'dest only',
  'b/ab/y': 'dest only',
  'old/a': 'dest only',
  'old/b/ab': 'dest only',
  ab: 'changed',
};

const TOKENS = [
  'a',
  'b',
  '.',
  '/',
  '*',
  '**',
  '***',
  '?',
  '[ab]',
  '[!a]',
  '[^b]',
  '[b-c]',
  '[c-a]',
  '[]a]',
  '[[:alpha:]]',
  '\\*',
  '\\a',
  'x',
];
const randomRule = fc
  .tuple(
    fc.constantFrom('', '- ', '+ '),
    fc.boolean(),
    fc.array(fc.constantFrom(...TOKENS), { minLength: 1, maxLength: 5 }),
    fc.boolean(),
  )
  .map(
    ([prefix, anchored, tokens, directoryOnly]) =>
      `${prefix}${anchored ? '/' : ''}${tokens.join('')}${directoryOnly ? '/' : ''}`,
  );

describe('random rule lists against rsync -a --delete', () => {
  let work: string;
  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'ferry-sync-random-'));
    await buildTree(join(work, 'release'), RANDOM_RELEASE);
  });
  afterAll(async () => rm(work, { recursive: true, force: true }));

  it('gives the same dest tree for every list', async () => {
    let run = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.oneof(randomRule, fc.constant('!')), { minLength: 1, maxLength: 3 }),
        async (rules) => {
          const root = join(work, `run-${run++}`);
          const [staged, rsyncDest, ferryDest] = [
            join(root, 'staged'),
            join(root, 'rsync'),
            join(root, 'ferry'),
          ];
          await buildTree(staged, RANDOM_RELEASE);
          for (const dest of [rsyncDest, ferryDest]) await buildTree(dest, RANDOM_DEST);
          const rsync = await rsyncArchive([
            ...rules.map((rule) => `--exclude=${rule}`),
            `${join(work, 'release')}/`,
            `${rsyncDest}/`,
          ]);
          expect(rsync.code, rsync.output).toBe(0);
          await syncTree(staged, ferryDest, compileExcludes(rules), { consumeSource: true });
          expect(await describeTree(ferryDest)).toEqual(await describeTree(rsyncDest));
          await rm(root, { recursive: true, force: true });
        },
      ),
      {
        seed: Number(process.env.FERRY_RSYNC_SEED ?? 20240102),
        numRuns: Number(process.env.FERRY_RSYNC_RUNS ?? 100),
      },
    );
  });
});
