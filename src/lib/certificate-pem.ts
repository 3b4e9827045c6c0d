import { createHash, type X509Certificate } from 'node:crypto';

const PEM_CERTIFICATE = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

/** Each certificate of a PEM bundle (a chain file, a CA file), in file order. */
export function splitPemCertificates(text: string): string[] {
  return [...text.matchAll(PEM_CERTIFICATE)].map((match) => `${match[0]}\n`);
}

/**
 * How a CA is pinned: `sha256:` and the hex of the SHA-256 of the certificate's DER, the one form
 * `ferry server` prints and `ferry agent --ca-fingerprint` takes.
 */
export function certificateFingerprint(certificate: X509Certificate | Buffer): string {
  const der = Buffer.isBuffer(certificate) ? certificate : certificate.raw;
  return `sha256:${createHash('sha256').update(der).digest('hex')}`;
}

/**
 * A fingerprint as an operator may paste it, in the canonical form: `sha256:` then 64 hex digits,
 * upper or lower case, with or without the colons `openssl x509 -fingerprint -sha256` prints.
 * Null when it is not one.
 */
export function normalizeFingerprint(text: string): string | null {
  const match = /^sha256:((?:[0-9a-f]{2}:?){31}[0-9a-f]{2})$/i.exec(text.trim());
  if (match?.[1] === undefined) return null;
  const hex = match[1].replaceAll(':', '').toLowerCase();
  return hex.length === 64 ? `sha256:${hex}` : null;
}
