import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * The two secrets of enrollment, each `<kind>.<id>.<secret>`: a join token (`ferry-join`, made by
 * an operator, enrolls agents) and an agent credential (`ferry-agent`, one per host; its id is the
 * host's). The id says which record to read, so no secret is ever looked up or compared in a
 * loop; the secret (32 random bytes, base64url) is stored only as its SHA-256, which is enough for
 * a secret of that entropy, and compared in constant time.
 */
export type SecretKind = 'ferry-join' | 'ferry-agent';

export interface SecretToken {
  readonly id: string;
  readonly secret: string;
}

const SECRET_BYTES = 32;
const TOKEN_PATTERN = /^(ferry-join|ferry-agent)\.([0-9a-f]{16})\.([A-Za-z0-9_-]{43})$/;
/** An id of a join token or a host: 16 hex digits. */
export const SECRET_ID_PATTERN = /^[0-9a-f]{16}$/;

/** A new random id (64 bits, unique by compare-and-swap on create). */
export function newSecretId(): string {
  return randomBytes(8).toString('hex');
}

/** A new token of that kind, for that id: the string shown once, and the hash to store. */
export function newSecretToken(
  kind: SecretKind,
  id: string,
): { readonly token: string; readonly hash: string } {
  const secret = randomBytes(SECRET_BYTES).toString('base64url');
  return { token: `${kind}.${id}.${secret}`, hash: hashSecret(secret) };
}

/** The id and secret of a token of that kind; null for anything else (never echoed back). */
export function parseSecretToken(kind: SecretKind, text: unknown): SecretToken | null {
  if (typeof text !== 'string' || text.length > 128) return null;
  const match = TOKEN_PATTERN.exec(text);
  if (match === null || match[1] !== kind || match[2] === undefined || match[3] === undefined) return null;
  return { id: match[2], secret: match[3] };
}

/** The stored form of a secret: hex SHA-256. */
export function hashSecret(secret: string): string {
  return createHash('sha256').update(secret).digest('hex');
}

/**
 * True when the secret hashes to the stored hash, compared in constant time. `storedHash`
 * undefined (no such record) still hashes and compares, so an unknown id takes as long as a
 * wrong secret.
 */
export function secretMatches(secret: string, storedHash: string | undefined): boolean {
  const given = createHash('sha256').update(secret).digest();
  const stored = Buffer.from(storedHash ?? '', 'hex');
  const comparable = stored.length === given.length ? stored : Buffer.alloc(given.length);
  return timingSafeEqual(given, comparable) && storedHash !== undefined && stored.length === given.length;
}
