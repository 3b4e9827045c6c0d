import { gzipSync } from 'node:zlib';
import { Header, Pax, types } from 'tar';

/** One tar entry, written exactly as given: the builder never sanitises, so it can forge attacks. */
export interface RawEntry {
  path: string;
  type?: types.EntryTypeName;
  body?: string | Buffer;
  linkpath?: string;
  mode?: number;
  /** Carry the path in a pax extended header instead of the ustar fields. */
  paxPath?: string;
}

/** Builds a tar archive from raw entries (headers encoded by node-tar's Header). */
export function buildTar(entries: RawEntry[]): Buffer {
  const blocks: Buffer[] = [];
  for (const entry of entries) {
    const type = entry.type ?? 'File';
    const body = typeof entry.body === 'string' ? Buffer.from(entry.body) : (entry.body ?? Buffer.alloc(0));
    if (entry.paxPath !== undefined) {
      blocks.push(new Pax({ path: entry.paxPath }).encode());
    }
    const header = new Header({
      path: entry.path,
      type,
      mode: entry.mode ?? (type === 'Directory' ? 0o755 : 0o644),
      size: body.length,
      linkpath: entry.linkpath,
      uid: 1000,
      gid: 1000,
      mtime: new Date('2024-01-02T03:04:05Z'),
      devmaj: 0,
      devmin: 0,
    });
    header.encode();
    blocks.push(header.block!, body, Buffer.alloc((512 - (body.length % 512)) % 512));
  }
  blocks.push(Buffer.alloc(1024));
  return Buffer.concat(blocks);
}

export function gzip(data: Buffer): Buffer {
  return gzipSync(data);
}
