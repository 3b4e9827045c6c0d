import { createHash } from 'node:crypto';
import { lstatSync, readFileSync, readdirSync, readlinkSync } from 'node:fs';
import path from 'node:path';

/**
 * What a directory holds, for "nothing changed on disk" assertions: every path under it (and itself
 * as '.') with its type, permission bits and content digest. Times are left out: reading is a change
 * no user cares about.
 */
export function snapshotTree(dir: string): string[] {
  const lines: string[] = [];
  const visit = (relative: string): void => {
    const full = path.join(dir, relative);
    const stat = lstatSync(full);
    const mode = (stat.mode & 0o7777).toString(8);
    if (stat.isDirectory()) {
      lines.push(`${relative} dir ${mode}`);
      for (const name of readdirSync(full).sort()) visit(path.join(relative, name));
    } else if (stat.isSymbolicLink()) {
      lines.push(`${relative} link -> ${readlinkSync(full)}`);
    } else {
      const digest = createHash('sha256').update(readFileSync(full)).digest('hex').slice(0, 16);
      lines.push(`${relative} file ${mode} ${stat.size} ${digest}`);
    }
  };
  visit('.');
  return lines;
}
