import { createPrivateKey, X509Certificate, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { FerryError, messageOf } from '../../errors/ferry-error.js';
import { splitPemCertificates } from '../../lib/certificate-pem.js';

/** A certificate as read from its file, kept with its PEM text (what TLS options take). */
export interface CertificateFile {
  readonly file: string;
  readonly pem: string;
  readonly certificate: X509Certificate;
}

/** FERRY_E_TLS_INVALID naming the file, what it should be and what it is. */
export function tlsProblem(file: string, expected: string, got: string, cause?: unknown): FerryError {
  return new FerryError(
    'FERRY_E_TLS_INVALID',
    `${file}: expected ${expected}, got ${got}`,
    { where: file, file, expected, got },
    { cause },
  );
}

/** The text of a TLS file; FERRY_E_TLS_INVALID naming it when it cannot be read. */
export function readTlsFile(file: string, what: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw tlsProblem(file, `a readable PEM file (${what})`, code ?? messageOf(error), error);
  }
}

/** Every certificate of a PEM file, in file order; at least one. */
export function readCertificates(file: string, what: string): CertificateFile[] {
  const text = readTlsFile(file, what);
  const pems = splitPemCertificates(text);
  if (pems.length === 0)
    throw tlsProblem(file, `a PEM certificate (${what})`, 'no "BEGIN CERTIFICATE" block');
  return pems.map((pem, index) => {
    try {
      return { file, pem, certificate: new X509Certificate(pem) };
    } catch (error) {
      throw tlsProblem(
        file,
        `a PEM certificate (${what})`,
        `an unreadable certificate #${index + 1} (${messageOf(error)})`,
        error,
      );
    }
  });
}

/** The first certificate of a PEM file (the leaf of a chain file). */
export function readCertificate(file: string, what: string): CertificateFile {
  const [first] = readCertificates(file, what);
  if (first === undefined) throw tlsProblem(file, `a PEM certificate (${what})`, 'none');
  return first;
}

/** The private key of a PEM file (unencrypted: the server starts without anyone to type a passphrase). */
export function readPrivateKey(
  file: string,
  what: string,
): { readonly pem: string; readonly key: KeyObject } {
  const pem = readTlsFile(file, what);
  try {
    return { pem, key: createPrivateKey(pem) };
  } catch (error) {
    throw tlsProblem(file, `an unencrypted PEM private key (${what})`, messageOf(error), error);
  }
}

/** FERRY_E_TLS_INVALID unless the key is the certificate's own. */
export function checkKeyMatches(cert: CertificateFile, keyFile: string, key: KeyObject): void {
  if (!cert.certificate.checkPrivateKey(key)) {
    throw tlsProblem(
      keyFile,
      `the private key of the certificate in ${cert.file}`,
      'the key of another certificate',
    );
  }
}

/** FERRY_E_TLS_INVALID unless the certificate is valid at `now` (not yet valid, or expired). */
export function checkValidAt(cert: CertificateFile, now: number, what: string): void {
  const from = Date.parse(cert.certificate.validFrom);
  const to = Date.parse(cert.certificate.validTo);
  if (now < from) {
    throw tlsProblem(
      cert.file,
      `${what} valid now`,
      `a certificate valid only from ${new Date(from).toISOString()}`,
    );
  }
  if (now >= to)
    throw tlsProblem(
      cert.file,
      `${what} valid now`,
      `a certificate that expired at ${new Date(to).toISOString()}`,
    );
}

/** True when `issuer` signed `cert` (names match and the signature verifies). */
export function isIssuedBy(cert: X509Certificate, issuer: X509Certificate): boolean {
  return cert.checkIssued(issuer) && cert.verify(issuer.publicKey);
}

/** When the certificate expires, in ms since the epoch. */
export function expiresAt(cert: X509Certificate): number {
  return Date.parse(cert.validTo);
}
