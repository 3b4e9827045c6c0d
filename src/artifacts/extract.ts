import { once } from 'node:events';
import { constants } from 'node:fs';
import { chmod, link, mkdir, open, symlink, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { Parser, type ReadEntry } from 'tar';
import { FerryError, messageOf } from '../errors/ferry-error.js';
import { ArchiveTree, entryComponents, unsafeEntry } from './archive-tree.js';
import { copyEntry, FileSyncer } from './write-file.js';
import type { ExtractLimits } from './types.js';

/** Written by Ferry after verification; an archive may not bring its own. */
export const RELEASE_RECORD = '.ferry-release.json';

const FILE_TYPES = new Set(['File', 'OldFile', 'ContiguousFile']);
const DIRECTORY_TYPES = new Set(['Directory', 'GNUDumpDir']);
const CREATE_FILE = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW;
// Headers, padding and pax records cost at most this much tar stream per entry beyond its data.
const STREAM_OVERHEAD_PER_ENTRY = 2048;

export interface ExtractSummary {
  entries: number;
  /** Bytes of regular files written. */
  bytes: number;
}

/**
 * Unpacks a tar stream into an empty directory that only it writes to. Every entry is checked on
 * an exact model of what is already there (ArchiveTree) before it touches the disk; files are
 * created with O_EXCL|O_NOFOLLOW below directories the extractor made itself, so nothing is ever
 * written through a link or outside the destination.
 */
export class ArchiveExtractor {
  private readonly parser = new Parser({ strict: true, brotli: false, zstd: false });
  private readonly tree: ArchiveTree;
  private readonly failed = new AbortController();
  private readonly syncer = new FileSyncer();
  private readonly directoryModes = new Map<string, number>();
  private chain: Promise<void> = Promise.resolve();
  private failure: Error | undefined = undefined;
  private entries = 0;
  private bytes = 0;
  private streamBytes = 0;
  private sawEndOfArchive = false;

  constructor(
    private readonly dest: string,
    private readonly limits: ExtractLimits,
    private readonly label: string,
    private readonly onBytes: (bytes: number) => void = () => undefined,
  ) {
    this.tree = new ArchiveTree(label);
    this.parser.on('entry', (entry: ReadEntry) => {
      this.chain = this.chain
        .then(() => (this.failure === undefined ? this.handle(entry) : undefined))
        .catch((error: unknown) => this.fail(error));
    });
    this.parser.on('ignoredEntry', (entry: ReadEntry) =>
      this.fail(
        entry.meta
          ? formatError(label, `a ${entry.type} header of ${entry.size} bytes (too large)`)
          : unsafeEntry(label, entry.path, `has the unsupported type ${entry.type}`),
      ),
    );
    this.parser.on('error', (error: Error) => this.fail(formatError(label, messageOf(error))));
    this.parser.on('eof', () => (this.sawEndOfArchive = true));
  }

  /** Aborts once extraction has failed: give it to the source so a download stops early too. */
  get failedSignal(): AbortSignal {
    return this.failed.signal;
  }

  /** Consumes the (decompressed) tar stream; resolves once every entry is safely on disk. */
  async extract(chunks: AsyncIterable<Buffer>): Promise<ExtractSummary> {
    const maxStream = this.limits.maxBytes + this.limits.maxEntries * STREAM_OVERHEAD_PER_ENTRY;
    try {
      for await (const chunk of chunks) {
        this.throwIfFailed();
        this.streamBytes += chunk.length;
        if (this.streamBytes > maxStream) {
          throw tooLarge(
            this.label,
            `a tar stream of more than ${maxStream} bytes`,
            `at least ${this.streamBytes}`,
          );
        }
        // What follows the end-of-archive blocks is padding: hashed upstream, not worth buffering.
        if (this.sawEndOfArchive) continue;
        if (!this.parser.write(chunk)) await this.waitFor('drain');
      }
      const ended = this.waitFor('end');
      this.parser.end();
      await ended;
      await this.chain;
      this.throwIfFailed();
      await this.finish();
      return { entries: this.entries, bytes: this.bytes };
    } catch (error) {
      this.throwIfFailed();
      throw error;
    }
  }

  /** Stops extraction (the pipeline failed elsewhere); in-flight writes end with this reason. */
  abort(reason: unknown): void {
    this.fail(reason);
  }

  /** Resolves when no file operation is in flight any more: only then may dest be removed. */
  async settled(): Promise<void> {
    await this.chain;
    await this.syncer.drain().catch(() => undefined);
  }

  private async handle(entry: ReadEntry): Promise<void> {
    this.entries += 1;
    if (this.entries > this.limits.maxEntries) {
      throw tooLarge(this.label, `at most ${this.limits.maxEntries} entries`, `at least ${this.entries}`);
    }
    const parts = entryComponents(this.label, entry.path);
    if (parts.length === 1 && parts[0] === RELEASE_RECORD) {
      throw unsafeEntry(this.label, entry.path, 'uses the name Ferry reserves for its release record');
    }
    if (parts.length === 0 && !DIRECTORY_TYPES.has(entry.type)) {
      throw unsafeEntry(this.label, entry.path, `is a ${entry.type} without a name`);
    }
    if (FILE_TYPES.has(entry.type)) return this.writeFile(entry, parts);
    entry.resume();
    if (DIRECTORY_TYPES.has(entry.type)) return this.makeDirectory(entry, parts);
    if (entry.type === 'SymbolicLink') return this.makeSymlink(entry, parts);
    if (entry.type === 'Link') return this.makeHardLink(entry, parts);
    throw unsafeEntry(
      this.label,
      entry.path,
      `is a ${entry.type}; only files, directories and links are allowed`,
    );
  }

  private async makeDirectory(entry: ReadEntry, parts: string[]): Promise<void> {
    const key = parts.join('/');
    this.directoryModes.set(key, entry.mode ?? 0o755);
    if (parts.length === 0) return;
    const existing = this.tree.get(parts);
    if (existing?.kind === 'dir') return;
    if (existing !== undefined)
      throw unsafeEntry(this.label, entry.path, `would replace the ${existing.kind} of that name`);
    await this.makeAncestors(entry.path, parts);
    await this.create(entry.path, () => mkdir(this.abs(parts), 0o700));
    this.tree.set(parts, { kind: 'dir' });
  }

  private async writeFile(entry: ReadEntry, parts: string[]): Promise<void> {
    if (this.bytes + entry.size > this.limits.maxBytes) {
      const got = `at least ${this.bytes + entry.size} (at ${JSON.stringify(entry.path)})`;
      throw tooLarge(this.label, `at most ${this.limits.maxBytes} bytes unpacked`, got);
    }
    this.bytes += entry.size;
    await this.prepareLeaf(entry.path, parts);
    const handle = await this.create(entry.path, () => open(this.abs(parts), CREATE_FILE, 0o600));
    this.tree.set(parts, { kind: 'file' });
    try {
      const written = await copyEntry(entry, handle, this.failed.signal);
      if (written !== entry.size)
        throw formatError(this.label, `${written} of ${entry.size} bytes of ${JSON.stringify(entry.path)}`);
    } catch (error) {
      await handle.close();
      throw error;
    }
    // Never setuid, setgid or sticky: a release does not get to raise privileges.
    await this.syncer.finishAndClose(handle, { mode: (entry.mode ?? 0o644) & 0o777, mtime: entry.mtime });
    this.onBytes(this.bytes);
  }

  private async makeSymlink(entry: ReadEntry, parts: string[]): Promise<void> {
    const target = entry.linkpath ?? '';
    if (!this.tree.resolvesInside(parts, target)) {
      throw unsafeEntry(
        this.label,
        entry.path,
        `is a symlink to ${JSON.stringify(target)}, outside the destination`,
      );
    }
    await this.prepareLeaf(entry.path, parts);
    await this.create(entry.path, () => symlink(target, this.abs(parts)));
    this.tree.set(parts, { kind: 'symlink', target });
  }

  private async makeHardLink(entry: ReadEntry, parts: string[]): Promise<void> {
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
    await this.prepareLeaf(entry.path, parts);
    await this.create(entry.path, () => link(this.abs(targetParts), this.abs(parts)));
    this.tree.set(parts, { kind: 'file' });
  }

  /** Makes the parent directories and removes an earlier file or link of the same name. */
  private async prepareLeaf(entryPath: string, parts: string[]): Promise<void> {
    await this.makeAncestors(entryPath, parts);
    const existing = this.tree.get(parts);
    if (existing?.kind === 'dir') throw unsafeEntry(this.label, entryPath, 'would replace a directory');
    if (existing !== undefined) {
      await unlink(this.abs(parts));
      this.tree.delete(parts);
    }
  }

  private async makeAncestors(entryPath: string, parts: string[]): Promise<void> {
    for (const ancestor of this.tree.missingAncestors(entryPath, parts)) {
      await this.create(entryPath, () => mkdir(this.abs(ancestor), 0o700));
      this.tree.set(ancestor, { kind: 'dir' });
      this.directoryModes.set(ancestor.join('/'), 0o755);
    }
  }

  /** Runs a create-exclusive operation; EEXIST means the filesystem disagrees with the model. */
  private async create<T>(entryPath: string, operation: () => Promise<T>): Promise<T> {
    try {
      return await operation();
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      throw unsafeEntry(
        this.label,
        entryPath,
        'collides with another entry (names that differ only in case?)',
      );
    }
  }

  private async finish(): Promise<void> {
    // A symlink checked when written may point outside through links that came after it.
    for (const [parts, target] of this.tree.allSymlinks()) {
      if (!this.tree.resolvesInside(parts, target)) {
        throw unsafeEntry(
          this.label,
          parts.join('/'),
          `is a symlink to ${JSON.stringify(target)}, outside the destination`,
        );
      }
    }
    // Directories were made owner-only so extraction could fill them; the owner keeps rwx so that
    // the release can be pruned later. Deepest first, so a read-only parent is set last.
    if (!this.directoryModes.has('')) this.directoryModes.set('', 0o755);
    const deepestFirst = [...this.directoryModes].sort(
      ([a], [b]) => b.split('/').length - a.split('/').length,
    );
    for (const [key, mode] of deepestFirst) {
      await chmod(key === '' ? this.dest : join(this.dest, key), (mode & 0o777) | 0o700);
    }
    await this.syncer.drain();
  }

  private abs(parts: string[]): string {
    return join(this.dest, ...parts);
  }

  private fail(error: unknown): void {
    if (this.failure !== undefined) return;
    this.failure = asError(error);
    this.failed.abort(this.failure);
  }

  private throwIfFailed(): void {
    if (this.failure !== undefined) throw this.failure;
  }

  private async waitFor(event: 'drain' | 'end'): Promise<void> {
    try {
      await once(this.parser, event, { signal: this.failed.signal });
    } catch (error) {
      this.throwIfFailed();
      throw error;
    }
  }
}

function asError(value: unknown): Error {
  return value instanceof Error ? value : new Error(String(value));
}

function formatError(label: string, got: string): FerryError {
  return new FerryError(
    'FERRY_E_ARTIFACT_FORMAT',
    `artifact ${label}: expected a complete tar or tar.gz archive, got ${got}`,
    {
      where: label,
      expected: 'tar or tar.gz',
      got,
    },
  );
}

function tooLarge(label: string, expected: string, got: string): FerryError {
  return new FerryError(
    'FERRY_E_ARCHIVE_TOO_LARGE',
    `archive ${label} is over its limit: expected ${expected}, got ${got}`,
    {
      where: label,
      expected,
      got,
    },
  );
}
