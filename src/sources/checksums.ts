import { findChecksumFor, parseChecksumsFile } from '../artifacts/checksums-file.js';
import { FerryError } from '../errors/ferry-error.js';
import { formatChecksum } from '../artifacts/checksum.js';

/** The largest checksums file read: a SHA256SUMS of a few hundred assets is far below it. */
export const MAX_CHECKSUMS_BYTES = 1024 * 1024;

/**
 * The sha256 of `asset` in a SHA256SUMS-style file (read with the artifacts' one parser), as
 * `sha256:<hex>`; or why it cannot be had, as a sentence starting with `where`. A watcher skips a
 * release over a problem rather than failing, so the parser's errors become values here.
 */
export function checksumOf(
  text: string,
  asset: string,
  where: string,
): { checksum: string } | { problem: string } {
  try {
    const checksum = findChecksumFor(parseChecksumsFile(text, where), asset, where);
    // Release sums are compared against sha256 digests of the download; a shorter digest is a problem.
    if (checksum.algorithm !== 'sha256')
      return {
        problem: `${where}: expected a sha256 digest for ${JSON.stringify(asset)}, got ${checksum.algorithm}`,
      };
    return { checksum: formatChecksum(checksum) };
  } catch (error) {
    if (error instanceof FerryError) return { problem: error.message };
    throw error;
  }
}
