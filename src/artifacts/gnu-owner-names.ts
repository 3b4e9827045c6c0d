import { Header } from 'tar';

/** The magic and version of GNU tar's own header format ("ustar  \0"), tar's default on Debian. */
const GNU_MAGIC = 'ustar  \0';

/**
 * node-tar reads the owner's user and group names (uname, gname) from POSIX headers only, yet GNU
 * tar writes them at the same offsets in its own format, the one `tar -cf` makes by default; GNU tar
 * run as root maps those names to this host's ids. So that an archive made by plain `tar -cf` is
 * unpacked with the owners `tar xf` gives it (ferry install, as root), its headers' names are read
 * too. Idempotent; called by ArchiveOwners.load before any archive is read with owners.
 */
export function readGnuOwnerNames(): void {
  if (patched) return;
  patched = true;
  // eslint-disable-next-line @typescript-eslint/unbound-method -- called below with the header as this
  const decode = Header.prototype.decode;
  Header.prototype.decode = function decodeWithGnuNames(buf, off, ex, gex): void {
    decode.call(this, buf, off, ex, gex);
    if (this.uname !== undefined || buf.subarray(off + 257, off + 265).toString('latin1') !== GNU_MAGIC)
      return;
    this.uname = field(buf, off + 265);
    this.gname = field(buf, off + 297);
  };
}

let patched = false;

/** A NUL-terminated 32-byte name field. */
function field(buf: Buffer, start: number): string {
  const bytes = buf.subarray(start, start + 32);
  const end = bytes.indexOf(0);
  return bytes.subarray(0, end === -1 ? bytes.length : end).toString('utf8');
}
