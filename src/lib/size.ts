const UNITS: Record<string, number> = { '': 1, K: 1024, M: 1024 ** 2, G: 1024 ** 3, T: 1024 ** 4 };
const SIZE = /^(\d+(?:\.\d+)?)\s*([KMGT]?)(?:i?B)?$/i;

/**
 * Parses a byte count with binary units: "1048576", "512K", "10M", "1.5GiB", "2GB" (case-insensitive;
 * K, M, G, T are powers of 1024, as in rsync and stretcher). Undefined when it is not a size.
 */
export function parseSize(text: string): number | undefined {
  const match = SIZE.exec(text.trim());
  const unit = UNITS[(match?.[2] ?? '').toUpperCase()];
  if (!match || unit === undefined) return undefined;
  return Math.floor(Number(match[1]) * unit);
}
