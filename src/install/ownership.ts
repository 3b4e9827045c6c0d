import type { Stats } from 'node:fs';
import { lchown } from 'node:fs/promises';

/** A uid and gid to set; -1 leaves that one as it is. */
export interface OwnerChange {
  uid: number;
  gid: number;
}

/**
 * What `rsync -a` (its -o and -g) does with owners: run as root, every entry gets its source's
 * uid and gid; otherwise the owner stays the user running it and the group is the source's only
 * when the user is a member of it (the only groups a user may give a file).
 */
export class OwnershipPolicy {
  private constructor(
    private readonly isRoot: boolean,
    private readonly uid: number,
    private readonly groups: ReadonlySet<number>,
  ) {}

  /** The policy of this process, by its effective uid and its groups. */
  static forThisProcess(): OwnershipPolicy {
    const uid = process.geteuid?.() ?? -1;
    const groups = new Set([...(process.getgroups?.() ?? []), process.getegid?.() ?? -1]);
    return new OwnershipPolicy(uid === 0, uid, groups);
  }

  /**
   * Whether the source's inode, moved into dest as it is, has the owner rsync would give the copy:
   * always for root; for anyone else only an inode of theirs in one of their groups.
   */
  keepsOwnerWhenMoved(source: Stats): boolean {
    return this.isRoot || (source.uid === this.uid && this.groups.has(source.gid));
  }

  /**
   * The change that gives an entry its source's ownership; current is the entry's own stat, or null
   * for an entry this process just created (owned by it, or by a setgid parent's group).
   */
  changeFor(source: Stats, current: Stats | null): OwnerChange | null {
    if (this.isRoot) {
      if (current !== null && current.uid === source.uid && current.gid === source.gid) return null;
      return { uid: source.uid, gid: source.gid };
    }
    if (!this.groups.has(source.gid) || current?.gid === source.gid) return null;
    return { uid: -1, gid: source.gid };
  }

  /** Applies changeFor to path (never following a symlink); true when something changed. */
  async apply(path: string, source: Stats, current: Stats | null): Promise<boolean> {
    const change = this.changeFor(source, current);
    if (change === null) return false;
    await lchown(path, change.uid, change.gid);
    return true;
  }
}
