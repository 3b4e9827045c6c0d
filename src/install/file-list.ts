import type { SyncChange } from './sync.js';

/**
 * The entries of one sync as `rsync -v` lists them for stretcher's log: deletions first
 * (`deleting a/b`, a directory after what it held), then what was transferred (a new directory as
 * `dir/`), in path order, since the native sync handles many entries at once; with -vv and more
 * also `a/b is uptodate` and which filter rule decided an entry.
 */
export class FileList {
  private readonly deleted: string[] = [];
  private readonly handled: string[] = [];
  private readonly filtered: string[] = [];

  /** verbosity: the number of v's of -rsync-verbose (0: no list). */
  constructor(private readonly verbosity: number) {}

  get wanted(): boolean {
    return this.verbosity > 0;
  }

  add(change: SyncChange): void {
    switch (change.action) {
      case 'delete':
        this.deleted.push(change.path);
        return;
      case 'transfer':
        this.handled.push(change.target === undefined ? change.path : `${change.path} -> ${change.target}`);
        return;
      case 'uptodate':
        if (this.verbosity > 1) this.handled.push(`${change.path} is uptodate`);
        return;
      case 'filter':
        if (this.verbosity > 1) this.filtered.push(filterLine(change));
    }
  }

  lines(): string[] {
    const deleted = this.deleted.sort((a, b) => byPath(contentsFirst(a), contentsFirst(b)));
    return [
      ...this.filtered.sort(byPath),
      ...deleted.map((path) => `deleting ${path}`),
      ...this.handled.sort(byPath),
    ];
  }
}

/** rsync -vv's filter report: `[sender] hiding file x.pid because of pattern *.pid`. */
function filterLine(change: Extract<SyncChange, { action: 'filter' }>): string {
  const who = change.side === 'release' ? 'sender' : 'generator';
  const what =
    change.side === 'release'
      ? change.rule.include
        ? 'showing'
        : 'hiding'
      : change.rule.include
        ? 'risking'
        : 'protecting';
  const kind = change.isDirectory ? 'directory' : 'file';
  return `[${who}] ${what} ${kind} ${change.path} because of pattern ${change.rule.pattern}`;
}

/** Code-unit order, as rsync sorts names (bytes; the same for ASCII). */
function byPath(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** A directory's key sorts after everything below it (`old/sub/x`, `old/sub/`, `old/`). */
function contentsFirst(path: string): string {
  return path.endsWith('/') ? `${path.slice(0, -1)}\uffff` : path;
}
