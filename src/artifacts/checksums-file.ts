import { FerryError } from '../errors/ferry-error.js';
import { parseChecksum, type Checksum } from './checksum.js';

export interface ChecksumsEntry {
  name: string;
  checksum: Checksum;
}

// "<hex>  <name>" (text mode) or "<hex> *<name>" (binary mode), as sha256sum and friends write them.
const LINE = /^([0-9a-fA-F]+)\s+\*?(.+)$/;

/** Parses a SHA256SUMS-style file; blank lines and '#' comments are skipped. */
export function parseChecksumsFile(text: string, where: string): ChecksumsEntry[] {
  const entries: ChecksumsEntry[] = [];
  const lines = text.split(/\r?\n/);
  for (const [index, raw] of lines.entries()) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const match = LINE.exec(line);
    if (!match) {
      throw new FerryError(
        'FERRY_E_CHECKSUM_INVALID',
        `${where} line ${index + 1}: expected "<hex>  <file name>", got ${JSON.stringify(line.slice(0, 200))}`,
        { where, line: index + 1 },
      );
    }
    entries.push({ checksum: parseChecksum(match[1]!), name: match[2]! });
  }
  return entries;
}

/**
 * The checksum listed for fileName: an exact match first, else a unique entry whose last path
 * component matches (files are often listed as "./dist/app.tar.gz").
 */
export function findChecksumFor(entries: ChecksumsEntry[], fileName: string, where: string): Checksum {
  const exact = entries.filter((entry) => entry.name === fileName);
  const candidates = exact.length > 0 ? exact : entries.filter((entry) => baseName(entry.name) === fileName);
  const distinct = new Set(candidates.map((entry) => `${entry.checksum.algorithm}:${entry.checksum.hex}`));
  if (candidates.length === 0) {
    throw new FerryError(
      'FERRY_E_CHECKSUM_INVALID',
      `${where}: expected an entry for ${JSON.stringify(fileName)}, got ${entries.length} entries for other files`,
      // unlisted: the file may not exist at all (a version that does not exist; see release-unknown.ts).
      { where, expected: fileName, unlisted: true },
    );
  }
  if (distinct.size > 1) {
    throw new FerryError(
      'FERRY_E_CHECKSUM_INVALID',
      `${where}: expected one checksum for ${JSON.stringify(fileName)}, got ${distinct.size} different ones`,
      { where, expected: fileName },
    );
  }
  return candidates[0]!.checksum;
}

function baseName(name: string): string {
  return name.slice(name.lastIndexOf('/') + 1);
}
