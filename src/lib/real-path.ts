import { realpathSync } from 'node:fs';
import path from 'node:path';

/**
 * The canonical path of `target` (symlinks resolved), even when it does not exist yet: the real path
 * of its nearest existing ancestor, then the missing components. Two spellings of one directory (a
 * symlink and its target, `a/../b` and `b`) give the same answer before and after it is created.
 */
export function resolveRealPath(target: string): string {
  const missing: string[] = [];
  let current = path.resolve(target);
  for (;;) {
    try {
      return path.join(realpathSync(current), ...missing);
    } catch {
      const parent = path.dirname(current);
      if (parent === current) return path.resolve(target);
      missing.unshift(path.basename(current));
      current = parent;
    }
  }
}
