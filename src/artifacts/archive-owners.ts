import { readFile } from 'node:fs/promises';
import { readGnuOwnerNames } from './gnu-owner-names.js';

/** A uid and gid. */
export interface Owner {
  uid: number;
  gid: number;
}

/** What a tar header says about an entry's owner (node-tar's ReadEntry has these). */
export interface OwnerHeader {
  uid?: number | undefined;
  gid?: number | undefined;
  uname?: string | undefined;
  gname?: string | undefined;
}

/**
 * The owners GNU tar gives extracted entries when run as root (its --same-owner default): the
 * archive's user and group names when this host has them, else the archive's numeric ids (0 when
 * the header has none). Names are looked up in /etc/passwd and /etc/group. Names are read from
 * POSIX (ustar, pax) and GNU-format headers alike (see readGnuOwnerNames).
 */
export class ArchiveOwners {
  private constructor(
    private readonly users: ReadonlyMap<string, number>,
    private readonly groups: ReadonlyMap<string, number>,
  ) {}

  /** Reads this host's user and group names. */
  static async load(): Promise<ArchiveOwners> {
    readGnuOwnerNames();
    const [users, groups] = await Promise.all([readIds('/etc/passwd'), readIds('/etc/group')]);
    return new ArchiveOwners(users, groups);
  }

  ownerOf(header: OwnerHeader): Owner {
    return {
      uid: lookup(this.users, header.uname) ?? header.uid ?? 0,
      gid: lookup(this.groups, header.gname) ?? header.gid ?? 0,
    };
  }
}

function lookup(ids: ReadonlyMap<string, number>, name: string | undefined): number | undefined {
  return name === undefined || name === '' ? undefined : ids.get(name);
}

/** name -> id from a passwd- or group-format file (name:password:id:...); missing file: none. */
async function readIds(path: string): Promise<Map<string, number>> {
  const ids = new Map<string, number>();
  const text = await readFile(path, 'utf8').catch(() => '');
  for (const line of text.split('\n')) {
    const [name, , id] = line.split(':');
    if (name === undefined || name === '' || name.startsWith('#') || id === undefined) continue;
    const value = Number(id);
    // The first entry of a name wins, as getpwnam returns it.
    if (/^\d+$/.test(id) && !ids.has(name)) ids.set(name, value);
  }
  return ids;
}
