import { FerryError } from '../errors/ferry-error.js';
import { ArchiveTree, entryComponents, unsafeEntry } from './archive-tree.js';
import type { ExtractLimits } from './types.js';

/** Written by Ferry after verification; an archive may not bring its own. */
export const RELEASE_RECORD = '.ferry-release.json';

/** The file system block entries are counted in: ext4's and xfs's default. */
export const BLOCK_BYTES = 4096;
/**
 * What every entry costs besides its blocks: its inode (256 bytes on ext4, 512 on xfs by default)
 * and its directory entry (8 bytes plus the name rounded up to 4: at most 264 for a 255-byte
 * name), rounded up to 1 KiB. The number of inodes itself is bounded by maxEntries.
 */
export const ENTRY_OVERHEAD_BYTES = 1024;

const FILE_TYPES = new Set(['File', 'OldFile', 'ContiguousFile']);
const DIRECTORY_TYPES = new Set(['Directory', 'GNUDumpDir']);

/** What the plan needs of a tar header (node-tar's ReadEntry has it, pax and GNU names applied). */
export interface EntryHeader {
  path: string;
  type: string;
  size: number;
  linkpath?: string | undefined;
  mode?: number | undefined;
}

interface Placed {
  parts: string[];
  /** Directories to create first, outermost first (the entry's path implies them). */
  ancestors: string[][];
}

interface Leaf extends Placed {
  /** An earlier file or symlink of the same name is there: remove it first (never follow it). */
  replace: boolean;
}

/** What extracting one entry does to the destination, decided before anything touches the disk. */
export type EntryAction =
  | (Leaf & { kind: 'file' })
  | (Leaf & { kind: 'symlink'; target: string })
  | (Leaf & { kind: 'hardlink'; targetParts: string[] })
  | (Placed & { kind: 'directory'; create: boolean; mode: number });

/**
 * The safety and size rules of unpacking an archive, as a pure plan: each header is checked on an
 * exact model of what the entries before it made (ArchiveTree), counted against the limits, and
 * turned into the action to take. The scan runs it on headers alone, before anything is written;
 * the extractor runs it again on what it actually reads and only then acts.
 */
export class ArchivePlanner {
  private readonly tree: ArchiveTree;
  /** Archive entries plus the directories their paths imply: every inode the release gets. */
  private entries = 0;
  private diskBytes = 0;

  constructor(
    private readonly limits: ExtractLimits,
    private readonly label: string,
  ) {
    this.tree = new ArchiveTree(label);
  }

  /** Entries and disk cost so far. */
  get totals(): { entries: number; diskBytes: number } {
    return { entries: this.entries, diskBytes: this.diskBytes };
  }

  /** Checks one entry and records it in the model; throws FERRY_E_ARCHIVE_UNSAFE or _TOO_LARGE. */
  plan(entry: EntryHeader): EntryAction {
    const parts = entryComponents(this.label, entry.path);
    if (parts.length === 1 && parts[0] === RELEASE_RECORD) {
      throw unsafeEntry(this.label, entry.path, 'uses the name Ferry reserves for its release record');
    }
    if (parts.length === 0 && !DIRECTORY_TYPES.has(entry.type)) {
      throw unsafeEntry(this.label, entry.path, `is a ${entry.type} without a name`);
    }
    if (FILE_TYPES.has(entry.type)) return { kind: 'file', ...this.placeLeaf(entry, parts, entry.size) };
    if (DIRECTORY_TYPES.has(entry.type)) return this.planDirectory(entry, parts);
    if (entry.type === 'SymbolicLink') return this.planSymlink(entry, parts);
    if (entry.type === 'Link') return this.planHardLink(entry, parts);
    throw unsafeEntry(
      this.label,
      entry.path,
      `is a ${entry.type}; only files, directories and links are allowed`,
    );
  }

  /** The checks that need the whole archive: a symlink may escape through links that came after it. */
  finish(): void {
    for (const [parts, target] of this.tree.allSymlinks()) {
      if (!this.tree.resolvesInside(parts, target)) {
        throw unsafeEntry(
          this.label,
          parts.join('/'),
          `is a symlink to ${JSON.stringify(target)}, outside the destination`,
        );
      }
    }
  }

  private planDirectory(entry: EntryHeader, parts: string[]): EntryAction {
    const mode = entry.mode ?? 0o755;
    const existing = this.tree.get(parts);
    if (parts.length === 0 || existing?.kind === 'dir') {
      this.charge(entry.path, 1, BLOCK_BYTES);
      return { kind: 'directory', parts, ancestors: [], create: false, mode };
    }
    if (existing !== undefined)
      throw unsafeEntry(this.label, entry.path, `would replace the ${existing.kind} of that name`);
    const ancestors = this.tree.missingAncestors(entry.path, parts);
    // A directory takes a block for its own entries.
    this.charge(entry.path, 1 + ancestors.length, (1 + ancestors.length) * BLOCK_BYTES);
    for (const ancestor of ancestors) this.tree.set(ancestor, { kind: 'dir' });
    this.tree.set(parts, { kind: 'dir' });
    return { kind: 'directory', parts, ancestors, create: true, mode };
  }

  private planSymlink(entry: EntryHeader, parts: string[]): EntryAction {
    const target = entry.linkpath ?? '';
    if (!this.tree.resolvesInside(parts, target)) {
      throw unsafeEntry(
        this.label,
        entry.path,
        `is a symlink to ${JSON.stringify(target)}, outside the destination`,
      );
    }
    // Counted as a block: only targets shorter than 60 bytes fit in an ext4 inode.
    const leaf = this.placeLeaf(entry, parts, BLOCK_BYTES);
    this.tree.set(parts, { kind: 'symlink', target });
    return { kind: 'symlink', ...leaf, target };
  }

  private planHardLink(entry: EntryHeader, parts: string[]): EntryAction {
    const target = entry.linkpath ?? '';
    let targetParts: string[];
    try {
      targetParts = entryComponents(this.label, target);
    } catch {
      throw unsafeEntry(
        this.label,
        entry.path,
        `is a hard link to ${JSON.stringify(target)}, outside the destination`,
      );
    }
    // Only to a regular file this archive already wrote: a link to a symlink would smuggle one in.
    if (this.tree.get(targetParts)?.kind !== 'file' || targetParts.join('/') === parts.join('/')) {
      throw unsafeEntry(
        this.label,
        entry.path,
        `is a hard link to ${JSON.stringify(target)}, not a file extracted before it`,
      );
    }
    // A new name for an existing inode: no blocks of its own.
    return { kind: 'hardlink', ...this.placeLeaf(entry, parts, 0), targetParts };
  }

  /** The parent directories a file or link needs, and whether it replaces an earlier one. */
  private placeLeaf(entry: EntryHeader, parts: string[], contentBytes: number): Leaf {
    const ancestors = this.tree.missingAncestors(entry.path, parts);
    const existing = this.tree.get(parts);
    if (existing?.kind === 'dir') throw unsafeEntry(this.label, entry.path, 'would replace a directory');
    // A replaced file still counts: its blocks were written before it was removed.
    this.charge(entry.path, 1 + ancestors.length, contentBytes + ancestors.length * BLOCK_BYTES);
    for (const ancestor of ancestors) this.tree.set(ancestor, { kind: 'dir' });
    this.tree.set(parts, { kind: 'file' });
    return { parts, ancestors, replace: existing !== undefined };
  }

  /** Counts new inodes and their content, rounded up to whole blocks, against the limits. */
  private charge(entryPath: string, inodes: number, contentBytes: number): void {
    this.entries += inodes;
    if (this.entries > this.limits.maxEntries) {
      throw tooLarge(
        this.label,
        `at most ${this.limits.maxEntries} entries`,
        `at least ${this.entries}`,
        this.limits.maxEntries,
      );
    }
    this.diskBytes += roundUpToBlock(contentBytes) + inodes * ENTRY_OVERHEAD_BYTES;
    if (this.diskBytes > this.limits.maxBytes) {
      throw tooLarge(
        this.label,
        `at most ${this.limits.maxBytes} bytes on disk once unpacked`,
        `at least ${this.diskBytes} (at ${JSON.stringify(entryPath)}; each entry counts its size in ${BLOCK_BYTES / 1024} KiB blocks plus ${ENTRY_OVERHEAD_BYTES / 1024} KiB)`,
        this.limits.maxBytes,
      );
    }
  }
}

function roundUpToBlock(bytes: number): number {
  return Math.ceil(bytes / BLOCK_BYTES) * BLOCK_BYTES;
}

export function tooLarge(label: string, expected: string, got: string, limit?: number): FerryError {
  return new FerryError(
    'FERRY_E_ARCHIVE_TOO_LARGE',
    `archive ${label} is over its limit: expected ${expected}, got ${got}`,
    { where: label, expected, got, ...(limit === undefined ? {} : { limit }) },
  );
}
