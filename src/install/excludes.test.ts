import { describe, expect, it } from 'vitest';
import { FerryError } from '../errors/ferry-error.js';
import { compileExcludes, parseExcludeFile } from './excludes.js';

// The rules against real rsync, tree by tree, are in sync-rsync.test.ts; these pin the parsing.
describe('compileExcludes (rsync exclude lists)', () => {
  it.each([
    [['*.pid'], 'test.pid', false, true],
    [['*.pid'], 'a/b/test.pid', false, true],
    [['baz'], 'foo/baz', false, true],
    [['baz'], 'foo/bazz', false, false],
    [['foo/baz'], 'x/foo/baz', false, true],
    [['/foo/baz'], 'x/foo/baz', false, false],
    [['cache/'], 'cache', false, false],
    [['cache/***'], 'cache', true, true],
    [['cache/***'], 'cache/a/b', false, true],
    [['cache/***'], 'cache', false, false],
    [['- *.pid', '+ keep.log', '*.log'], 'keep.log', false, false],
    [['- *.pid', '+ keep.log', '*.log'], 'other.log', false, true],
    [['*.log', '+ keep.log'], 'keep.log', false, true],
    [['*.log', '!'], 'x.log', false, false],
    [['*.log', '!', '*.pid'], 'x.pid', false, true],
    [['!x'], '!x', false, true],
    [['exclude x'], 'x', false, false],
    [['exclude x'], 'exclude x', false, true],
    [['*.pid '], 'test.pid', false, false],
    [[''], 'anything', false, false],
    [['data[1'], 'data[1', false, false],
    [['back\\slash'], 'back\\slash', false, true],
    [['caf?.txt'], 'café.txt', false, false],
    [['caf??.txt'], 'café.txt', false, true],
  ] as const)('%j on %j (dir %j): excluded %j', (items, path, isDir, expected) => {
    expect(compileExcludes(items)(path, isDir)).toBe(expected);
  });

  it('refuses a prefix without a pattern, as rsync does', () => {
    const refuse = () => compileExcludes(['*.pid', '+ ']);
    expect(refuse).toThrow(FerryError);
    expect(refuse).toThrow('exclude rule "+ ": expected a pattern after "+ ", got nothing');
  });
});

describe('parseExcludeFile', () => {
  it('skips blank lines and comments, splits on LF, CR and CRLF, keeps spaces', () => {
    expect(parseExcludeFile('*.pid\n\n# comment\n; also\r\nbaz\r  # not a comment\n- x \n')).toEqual([
      '*.pid',
      'baz',
      '  # not a comment',
      '- x ',
    ]);
  });
});
