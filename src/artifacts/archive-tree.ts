import { FerryError } from '../errors/ferry-error.js';

export type NodeKind = 'dir' | 'file' | 'symlink';

export interface TreeNode {
  kind: NodeKind;
  /** For symlinks: the link text as written in the archive. */
  target?: string;
}

// The kernel gives up after 40 symlink hops (ELOOP); following more than that proves nothing.
const MAX_SYMLINK_HOPS = 64;

export function unsafeEntry(label: string, entryPath: string, reason: string): FerryError {
  return new FerryError(
    'FERRY_E_ARCHIVE_UNSAFE',
    `unsafe archive ${label}: entry ${JSON.stringify(entryPath)} ${reason}`,
    {
      where: label,
      entry: entryPath,
      reason,
    },
  );
}

/**
 * Splits an archive entry path into its components, rejecting (never stripping) anything that
 * could name a place outside the destination.
 */
export function entryComponents(label: string, entryPath: string): string[] {
  if (entryPath.includes('\0')) throw unsafeEntry(label, entryPath, 'contains a NUL byte');
  if (entryPath.startsWith('/')) throw unsafeEntry(label, entryPath, 'is an absolute path');
  const parts = entryPath.split('/').filter((part) => part !== '' && part !== '.');
  if (parts.includes('..')) throw unsafeEntry(label, entryPath, "has a '..' component");
  return parts;
}

/**
 * What the extraction has put into the destination so far. The destination is a fresh directory
 * only the extractor writes to, so this model is exact, and every safety decision is made on it
 * before anything touches the disk.
 */
export class ArchiveTree {
  private readonly nodes = new Map<string, TreeNode>();
  // Symlinks by case- and Unicode-folded path: on a case-insensitive filesystem "A" and "a" are one.
  private readonly symlinks = new Map<string, string>();

  constructor(private readonly label: string) {}

  get(parts: string[]): TreeNode | undefined {
    return this.nodes.get(parts.join('/'));
  }

  set(parts: string[], node: TreeNode): void {
    this.delete(parts);
    this.nodes.set(parts.join('/'), node);
    if (node.kind === 'symlink') this.symlinks.set(fold(parts), node.target ?? '');
  }

  delete(parts: string[]): void {
    const key = parts.join('/');
    if (this.nodes.get(key)?.kind === 'symlink') this.symlinks.delete(fold(parts));
    this.nodes.delete(key);
  }

  /**
   * The ancestors of parts that do not exist yet (to be created as directories), after checking
   * that none of the existing ones is a symlink or a file: nothing is ever written through a link.
   */
  missingAncestors(entryPath: string, parts: string[]): string[][] {
    const missing: string[][] = [];
    for (let length = 1; length < parts.length; length++) {
      const ancestor = parts.slice(0, length);
      if (this.symlinks.has(fold(ancestor))) {
        throw unsafeEntry(
          this.label,
          entryPath,
          `would be written through the symlink ${JSON.stringify(ancestor.join('/'))}`,
        );
      }
      const node = this.get(ancestor);
      if (node?.kind === 'file') {
        throw unsafeEntry(
          this.label,
          entryPath,
          `needs ${JSON.stringify(ancestor.join('/'))} to be a directory, but it is a file`,
        );
      }
      if (node === undefined) missing.push(ancestor);
    }
    return missing;
  }

  /** True when the symlink at linkParts, pointing at target, resolves inside the destination. */
  resolvesInside(linkParts: string[], target: string): boolean {
    if (target.startsWith('/') || target.includes('\0')) return false;
    let hops = 0;
    const walk = (base: string[], components: string[]): string[] | null => {
      const stack = [...base];
      for (const component of components) {
        if (component === '' || component === '.') continue;
        if (component === '..') {
          if (stack.length === 0) return null;
          stack.pop();
          continue;
        }
        stack.push(component);
        const next = this.symlinks.get(fold(stack));
        if (next === undefined || ++hops > MAX_SYMLINK_HOPS) continue;
        stack.pop();
        if (next.startsWith('/')) return null;
        const resolved = walk(stack, next.split('/'));
        if (resolved === null) return null;
        stack.splice(0, stack.length, ...resolved);
      }
      return stack;
    };
    return walk(linkParts.slice(0, -1), target.split('/')) !== null;
  }

  /** Every symlink as [path components, target]. */
  *allSymlinks(): Generator<[string[], string]> {
    for (const [key, node] of this.nodes) {
      if (node.kind === 'symlink') yield [key.split('/'), node.target ?? ''];
    }
  }
}

function fold(parts: string[]): string {
  return parts.join('/').normalize('NFD').toLowerCase();
}
