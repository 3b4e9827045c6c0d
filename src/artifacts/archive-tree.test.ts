import { describe, expect, it } from 'vitest';
import { ArchiveTree, entryComponents } from './archive-tree.js';

const split = (path: string): string[] => path.split('/');

describe('entryComponents', () => {
  it.each([
    ['a/b/c', ['a', 'b', 'c']],
    ['./a//b/', ['a', 'b']],
    ['./', []],
    ['a/./b', ['a', 'b']],
    ['..foo/bar..', ['..foo', 'bar..']],
  ])('splits %j', (path, parts) => {
    expect(entryComponents('x.tar', path)).toEqual(parts);
  });

  it.each([
    ['../evil', "has a '..' component"],
    ['a/../../evil', "has a '..' component"],
    ['a/..', "has a '..' component"],
    ['/etc/passwd', 'is an absolute path'],
    ['a\0b', 'contains a NUL byte'],
  ])('rejects %j', (path, reason) => {
    expect(() => entryComponents('x.tar', path)).toThrow(reason);
  });
});

describe('ArchiveTree.resolvesInside', () => {
  function treeWith(symlinks: Record<string, string>, dirs: string[] = []): ArchiveTree {
    const tree = new ArchiveTree('x.tar');
    for (const dir of dirs) tree.set(split(dir), { kind: 'dir' });
    for (const [path, target] of Object.entries(symlinks)) tree.set(split(path), { kind: 'symlink', target });
    return tree;
  }

  it.each([
    ['a', 'b', true],
    ['d/a', '../b', true],
    ['d/a', '../..', false],
    ['a', '..', false],
    ['a', '/tmp', false],
    ['a', '.', true],
    ['d/e/a', '../../x/../y', true],
    ['d/a', '../../d/x', false],
  ])('%s -> %s inside: %s', (link, target, inside) => {
    expect(treeWith({}, ['d', 'd/e']).resolvesInside(split(link), target)).toBe(inside);
  });

  it('follows earlier symlinks: sub/up -> .. makes x -> sub/up/.. point outside', () => {
    const tree = treeWith({ 'sub/up': '..' }, ['sub']);
    expect(tree.resolvesInside(['sub', 'up'], '..')).toBe(true);
    expect(tree.resolvesInside(['x'], 'sub/up/..')).toBe(false);
    expect(tree.resolvesInside(['x'], 'sub/up/sub')).toBe(true);
  });

  it('folds case when following symlinks (case-insensitive filesystems)', () => {
    const tree = treeWith({ 'sub/up': '..' }, ['sub']);
    expect(tree.resolvesInside(['x'], 'SUB/UP/..')).toBe(false);
  });

  it('survives symlink loops', () => {
    const tree = treeWith({ a: 'b', b: 'a' });
    expect(tree.resolvesInside(['c'], 'a/x')).toBe(true);
    expect(tree.resolvesInside(['c'], 'a/../..')).toBe(false);
  });
});

describe('ArchiveTree.missingAncestors', () => {
  it('lists the directories to create', () => {
    const tree = new ArchiveTree('x.tar');
    tree.set(['a'], { kind: 'dir' });
    expect(tree.missingAncestors('a/b/c/f', ['a', 'b', 'c', 'f'])).toEqual([
      ['a', 'b'],
      ['a', 'b', 'c'],
    ]);
  });

  it('refuses to go through a symlink, whatever its case', () => {
    const tree = new ArchiveTree('x.tar');
    tree.set(['link'], { kind: 'symlink', target: 'dir' });
    expect(() => tree.missingAncestors('link/f', ['link', 'f'])).toThrow(
      'would be written through the symlink "link"',
    );
    expect(() => tree.missingAncestors('LINK/f', ['LINK', 'f'])).toThrow('through the symlink');
  });

  it('refuses to treat a file as a directory', () => {
    const tree = new ArchiveTree('x.tar');
    tree.set(['f'], { kind: 'file' });
    expect(() => tree.missingAncestors('f/g', ['f', 'g'])).toThrow('needs "f" to be a directory');
  });
});
