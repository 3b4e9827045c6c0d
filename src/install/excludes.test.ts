import { describe, expect, it } from 'vitest';
import { compileExcludes, parseExcludeFile } from './excludes.js';

describe('compileExcludes (rsync rules)', () => {
  it.each([
    [['*.pid'], 'test.pid', false, true],
    [['*.pid'], 'a/b/test.pid', false, true],
    [['baz'], 'foo/baz', false, true],
    [['baz'], 'foo/bazz', false, false],
    [['foo/baz'], 'foo/baz', false, true],
    [['foo/baz'], 'x/foo/baz', false, true],
    [['/foo/baz'], 'x/foo/baz', false, false],
    [['/foo/baz'], 'foo/baz', false, true],
    [['cache/'], 'cache', true, true],
    [['cache/'], 'cache', false, false],
    [['log?.txt'], 'log1.txt', false, true],
    [['log[0-9].txt'], 'logx.txt', false, false],
    [['a/*/c'], 'a/b/c', false, true],
    [['a/*/c'], 'a/b/x/c', false, false],
    [['a/**/c'], 'a/b/x/c', false, true],
  ] as const)('%j matches %j (dir %j): %j', (patterns, path, isDir, expected) => {
    expect(compileExcludes(patterns)(path, isDir)).toBe(expected);
  });

  it('reads exclude files without blanks and comments', () => {
    expect(parseExcludeFile('*.pid\n\n# comment\n; also\nbaz\n')).toEqual(['*.pid', 'baz']);
  });
});
