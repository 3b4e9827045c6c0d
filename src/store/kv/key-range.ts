/**
 * Keys as the store orders them: their UTF-8 bytes, compared bytewise, as etcd does. A prefix is the
 * byte range [prefix, prefixEnd(prefix)).
 */

/** The key as the bytes the store compares. */
export function keyBytes(key: string): Buffer {
  return Buffer.from(key, 'utf8');
}

/**
 * The first byte string after every key that starts with `prefix` (etcd's range_end for a prefix),
 * or undefined when there is none: an empty prefix, or one of only 0xff bytes (never UTF-8).
 */
export function prefixEnd(prefix: Buffer): Buffer | undefined {
  const end = Buffer.from(prefix);
  for (let i = end.length - 1; i >= 0; i--) {
    const byte = end[i] ?? 0xff;
    if (byte < 0xff) {
      end[i] = byte + 1;
      return end.subarray(0, i + 1);
    }
  }
  return undefined;
}

/** Sorts keys as the store orders them (JavaScript's own order differs past U+FFFF). */
export function compareKeys(a: string, b: string): number {
  return Buffer.compare(keyBytes(a), keyBytes(b));
}
