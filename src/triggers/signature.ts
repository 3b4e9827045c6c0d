import { createHmac, timingSafeEqual } from 'node:crypto';

const SIGNATURE = /^sha256=([0-9a-f]{64})$/i;

/** The `sha256=<hex>` header value for a payload signed with a secret (HMAC-SHA256). */
export function signPayload(secret: string, payload: Buffer | string): string {
  return `sha256=${createHmac('sha256', secret).update(payload).digest('hex')}`;
}

/**
 * True when `header` is `sha256=<hex>` of the payload's HMAC-SHA256 with the secret. The digests
 * are compared in constant time, on buffers of equal length (a malformed header is false at once:
 * its length says nothing about the secret).
 */
export function isValidSignature(secret: string, payload: Buffer, header: string | undefined): boolean {
  const match = header === undefined ? null : SIGNATURE.exec(header.trim());
  if (match === null) return false;
  const given = Buffer.from(match[1]!.toLowerCase(), 'hex');
  const expected = createHmac('sha256', secret).update(payload).digest();
  return given.length === expected.length && timingSafeEqual(given, expected);
}

/** A token from a URL compared in constant time (its digest, so lengths never differ). */
export function isSameToken(expected: string, given: string): boolean {
  const digest = (text: string) => createHmac('sha256', 'ferry-token').update(text).digest();
  return timingSafeEqual(digest(expected), digest(given));
}
