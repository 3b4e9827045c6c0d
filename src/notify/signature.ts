import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * A webhook's X-Ferry-Signature-256: `sha256=` and the hex HMAC-SHA256, keyed by the destination's
 * secret, of `<timestamp>.<body>` (the timestamp is X-Ferry-Timestamp, seconds since the epoch), so
 * a receiver can check both the body and its age (docs/triggers.md#notifications).
 */
export function signPayload(secret: string, timestamp: string, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`;
}

/** True when `signature` is the one signPayload makes (compared in constant time). */
export function verifyPayload(secret: string, timestamp: string, body: string, signature: string): boolean {
  const expected = Buffer.from(signPayload(secret, timestamp, body));
  const given = Buffer.from(signature);
  return expected.length === given.length && timingSafeEqual(expected, given);
}
