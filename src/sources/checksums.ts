/** The largest checksums file read: a SHA256SUMS of a few hundred assets is far below it. */
export const MAX_CHECKSUMS_BYTES = 1024 * 1024;

// `sha256sum` output: the hex digest, two spaces (text mode) or a space and `*` (binary mode), the name.
const LINE = /^([0-9a-fA-F]{64}) [ *](.+)$/;

/**
 * The sha256 of `asset` in a SHA256SUMS-style file, as `sha256:<hex>`; or why it cannot be had (a
 * malformed line, the asset missing or listed twice with different digests). A listed path matches
 * when it is the asset's name or ends with `/<name>` (sums made from `dist/`).
 */
export function checksumOf(text: string, asset: string): { checksum: string } | { problem: string } {
  const found = new Set<string>();
  const lines = text.split(/\r?\n/);
  for (const [index, raw] of lines.entries()) {
    const line = raw.trim();
    if (line === '') continue;
    const match = LINE.exec(line);
    if (match === null)
      return {
        problem: `line ${index + 1} is not "<sha256 hex>  <name>" (got ${JSON.stringify(line.slice(0, 80))})`,
      };
    const [, hex, listed] = match as unknown as [string, string, string];
    const name = listed.replace(/^\.\//, '');
    if (name === asset || name.endsWith(`/${asset}`)) found.add(hex.toLowerCase());
  }
  if (found.size === 0) return { problem: `it does not list ${asset}` };
  if (found.size > 1) return { problem: `it lists ${asset} with ${found.size} different digests` };
  return { checksum: `sha256:${[...found][0]}` };
}
