import { constants } from 'node:fs';
import { chmod, lchown, link, mkdir, open, symlink, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { ReadEntry } from 'tar';
import type { ArchiveOwners, Owner } from './archive-owners.js';
import { ArchivePlanner, type EntryAction } from './archive-plan.js';
import { unsafeEntry } from './archive-tree.js';
import { formatError, TarFeed } from './tar-feed.js';
import { copyEntry, FileSyncer } from './write-file.js';
import type { ExtractLimits } from './types.js';

const CREATE_FILE = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW;

export interface ExtractSummary {
  entries: number;
  /** Bytes of regular files written. */
  bytes: number;
}

/**
 * Unpacks a tar stream into an empty directory that only it writes to. Every entry is planned
 * (checked on an exact model of what is already there, counted against the limits) before it
 * touches the disk; files are created with O_EXCL|O_NOFOLLOW below directories the extractor made
 * itself, so nothing is ever written through a link or outside the destination. The install scans
 * the archive with the same plan before extracting it; the checks here still hold if the bytes
 * read now are not the ones scanned. Entries belong to the user extracting them, unless owners are
 * given: then each gets the archive's owner, as tar run as root gives it (the directories an
 * entry's path implies stay the extracting user's, as with tar).
 */
export class ArchiveExtractor {
  private readonly feed: TarFeed;
  private readonly planner: ArchivePlanner;
  private readonly syncer = new FileSyncer();
  private readonly directoryModes = new Map<string, number>();
  private readonly directoryOwners = new Map<string, Owner>();
  private chain: Promise<void> = Promise.resolve();
  private entries = 0;
  private bytes = 0;

  constructor(
    private readonly dest: string,
    limits: ExtractLimits,
    private readonly label: string,
    private readonly onBytes: (bytes: number) => void = () => undefined,
    private readonly owners: ArchiveOwners | null = null,
  ) {
    this.planner = new ArchivePlanner(limits, label);
    this.feed = new TarFeed(limits, label);
    this.feed.parser.on('entry', (entry: ReadEntry) => {
      this.chain = this.chain
        .then(() => (this.feed.failedSignal.aborted ? entry.resume() : this.handle(entry)))
        .catch((error: unknown) => this.feed.fail(error));
    });
  }

  /** Aborts once extraction has failed: give it to the source so reading stops early too. */
  get failedSignal(): AbortSignal {
    return this.feed.failedSignal;
  }

  /** Consumes the (decompressed) tar stream; resolves once every entry is safely on disk. */
  async extract(chunks: AsyncIterable<Buffer>): Promise<ExtractSummary> {
    await this.feed.feed(chunks);
    await this.chain;
    this.feed.throwIfFailed();
    this.planner.finish();
    await this.restoreDirectoryModes();
    await this.syncer.drain();
    return { entries: this.entries, bytes: this.bytes };
  }

  /** Stops extraction (the pipeline failed elsewhere); in-flight writes end with this reason. */
  abort(reason: unknown): void {
    this.feed.fail(reason);
  }

  /** Resolves when no file operation is in flight any more: only then may dest be removed. */
  async settled(): Promise<void> {
    await this.chain;
    await this.syncer.drain().catch(() => undefined);
  }

  private async handle(entry: ReadEntry): Promise<void> {
    this.entries += 1;
    const action = this.planner.plan(entry);
    if (action.kind !== 'file') entry.resume();
    for (const ancestor of action.ancestors) {
      await this.create(entry.path, () => mkdir(this.abs(ancestor), 0o700));
      this.directoryModes.set(ancestor.join('/'), 0o755);
    }
    if (action.kind === 'directory') return this.makeDirectory(entry, action);
    if (action.replace) await unlink(this.abs(action.parts));
    const path = this.abs(action.parts);
    if (action.kind === 'file') return this.writeFile(entry, path);
    if (action.kind === 'symlink') {
      await this.create(entry.path, () => symlink(action.target, path));
      if (this.owners) {
        const { uid, gid } = this.owners.ownerOf(entry);
        await lchown(path, uid, gid);
      }
    } else await this.create(entry.path, () => link(this.abs(action.targetParts), path));
  }

  private async makeDirectory(
    entry: ReadEntry,
    action: Extract<EntryAction, { kind: 'directory' }>,
  ): Promise<void> {
    this.directoryModes.set(action.parts.join('/'), action.mode);
    if (this.owners) this.directoryOwners.set(action.parts.join('/'), this.owners.ownerOf(entry));
    // Owner-only while it is filled; its own mode is set once everything is in.
    if (action.create) await this.create(entry.path, () => mkdir(this.abs(action.parts), 0o700));
  }

  private async writeFile(entry: ReadEntry, path: string): Promise<void> {
    const handle = await this.create(entry.path, () => open(path, CREATE_FILE, 0o600));
    try {
      const written = await copyEntry(entry, handle, this.feed.failedSignal);
      if (written !== entry.size)
        throw formatError(this.label, `${written} of ${entry.size} bytes of ${JSON.stringify(entry.path)}`);
    } catch (error) {
      await handle.close();
      throw error;
    }
    this.bytes += entry.size;
    // Never setuid, setgid or sticky: a release does not get to raise privileges.
    await this.syncer.finishAndClose(handle, {
      mode: (entry.mode ?? 0o644) & 0o777,
      mtime: entry.mtime,
      owner: this.owners?.ownerOf(entry) ?? null,
    });
    this.onBytes(this.bytes);
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

  /**
   * Directories were made owner-only so extraction could fill them; the owner keeps rwx so that
   * the release can be pruned later. Deepest first, so a read-only parent is set last.
   */
  private async restoreDirectoryModes(): Promise<void> {
    if (!this.directoryModes.has('')) this.directoryModes.set('', 0o755);
    const deepestFirst = [...this.directoryModes].sort(
      ([a], [b]) => b.split('/').length - a.split('/').length,
    );
    for (const [key, mode] of deepestFirst) {
      const path = key === '' ? this.dest : join(this.dest, key);
      const owner = this.directoryOwners.get(key);
      if (owner) await lchown(path, owner.uid, owner.gid);
      await chmod(path, (mode & 0o777) | 0o700);
    }
  }

  private abs(parts: string[]): string {
    return join(this.dest, ...parts);
  }
}
