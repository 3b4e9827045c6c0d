import { chmodSync, existsSync, mkdirSync } from 'node:fs';
import { isIP } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { certificateFingerprint } from '../../lib/certificate-pem.js';
import { systemClock, type Clock } from '../../lib/clock.js';
import { writePrivateFile } from '../../lib/private-file.js';
import type { IssuedCertificate } from './certificate-factory.js';
import { serverNames } from './server-names.js';
import type { ServerTls } from './server-tls.js';
import {
  checkKeyMatches,
  checkValidAt,
  expiresAt,
  isIssuedBy,
  readCertificate,
  readPrivateKey,
  tlsProblem,
  type CertificateFile,
} from './tls-files.js';

/** A server certificate is renewed when it expires within this time. */
export const RENEW_BEFORE_MS = 30 * 24 * 60 * 60 * 1000;

export interface QuickTlsOptions {
  /** The server's data directory; the files live in its `tls/` (mode 0700, keys 0600). */
  readonly dataDir: string;
  /** Names and IP addresses agents reach the server by, beyond the defaults (serverNames). */
  readonly names?: readonly string[];
  readonly clock?: Clock;
  /** The host's name (os.hostname() unless given). */
  readonly hostname?: string;
}

/** Where the quick setup keeps its files. */
export function quickTlsPaths(dataDir: string) {
  const dir = path.join(dataDir, 'tls');
  return {
    dir,
    caCert: path.join(dir, 'ca.pem'),
    caKey: path.join(dir, 'ca-key.pem'),
    serverCert: path.join(dir, 'server.pem'),
    serverKey: path.join(dir, 'server-key.pem'),
  };
}

/**
 * The quick setup: on the first start, a self-signed CA and a server certificate it signs; on later
 * starts the same CA (agents pinned its fingerprint), and the server certificate reused unless it
 * expires within 30 days, lacks one of the names, or does not belong to the CA (then a new one).
 * A CA that cannot be used (its key missing, damaged, expired) is refused, never replaced: a new
 * one would lock out every agent that pinned the old one.
 */
export async function ensureQuickTls(options: QuickTlsOptions): Promise<ServerTls> {
  const now = (options.clock ?? systemClock).now();
  const files = quickTlsPaths(options.dataDir);
  const names = serverNames(options.hostname ?? os.hostname(), options.names);
  mkdirSync(files.dir, { recursive: true, mode: 0o700 });
  chmodSync(files.dir, 0o700);

  // The key is written before the certificate: a certificate on disk always has its key.
  const caCreated = !existsSync(files.caCert);
  if (caCreated) {
    const created = await (await certificateFactory()).createCaCertificate(now);
    writePrivateFile(files.caKey, created.key);
    writePrivateFile(files.caCert, created.cert);
  }
  const ca = loadCa(files, now);

  let server = reusableServerCertificate(files, ca.cert, names, now);
  const serverIssued = server === null;
  if (server === null) {
    server = await (
      await certificateFactory()
    ).issueServerCertificate({ cert: ca.cert.pem, key: ca.key }, names, now);
    writePrivateFile(files.serverKey, server.key);
    writePrivateFile(files.serverCert, server.cert);
  }
  for (const file of [files.caKey, files.serverKey]) chmodSync(file, 0o600);

  return {
    key: server.key,
    cert: server.cert + ca.cert.pem,
    ca: ca.cert.pem,
    caFingerprint: certificateFingerprint(ca.cert.certificate),
    expiresAt: server.expiresAt,
    source: 'self-signed',
    created: { ca: caCreated, serverCertificate: serverIssued },
  };
}

type QuickTlsPaths = ReturnType<typeof quickTlsPaths>;

/** The CA from its files, checked: its key is its own, it is a CA, and it has not expired. */
function loadCa(files: QuickTlsPaths, now: number): { readonly cert: CertificateFile; readonly key: string } {
  const cert = readCertificate(files.caCert, "the quick setup's CA certificate");
  if (!existsSync(files.caKey)) {
    throw tlsProblem(
      files.caKey,
      `the private key of the CA in ${files.caCert} (agents pinned that CA: restore the key from a backup, or move ${files.dir} aside to create a new CA and pin it again on every agent)`,
      'no file',
    );
  }
  const key = readPrivateKey(files.caKey, "the quick setup's CA key");
  checkKeyMatches(cert, files.caKey, key.key);
  if (!cert.certificate.ca)
    throw tlsProblem(files.caCert, 'a CA certificate', 'a certificate that is not a CA');
  checkValidAt(cert, now, 'a CA certificate');
  return { cert: cert, key: key.pem };
}

/**
 * The server certificate on disk when it can serve on: readable, with its own key, signed by the
 * CA, valid now and for 30 more days, naming every name. Null when a new one is needed.
 */
function reusableServerCertificate(
  files: QuickTlsPaths,
  ca: CertificateFile,
  names: readonly string[],
  now: number,
): IssuedCertificate | null {
  if (!existsSync(files.serverCert) || !existsSync(files.serverKey)) return null;
  try {
    const cert = readCertificate(files.serverCert, 'the server certificate');
    const key = readPrivateKey(files.serverKey, 'the server key');
    checkKeyMatches(cert, files.serverKey, key.key);
    const x509 = cert.certificate;
    if (!isIssuedBy(x509, ca.certificate)) return null;
    if (now < Date.parse(x509.validFrom) || expiresAt(x509) - now < RENEW_BEFORE_MS) return null;
    const named = (name: string) =>
      isIP(name) === 0 ? x509.checkHost(name) !== undefined : x509.checkIP(name) !== undefined;
    if (!names.every(named)) return null;
    return { cert: cert.pem, key: key.pem, expiresAt: expiresAt(x509) };
  } catch {
    // Damaged or mismatched: the server certificate is ours to replace (agents pin the CA, not it).
    return null;
  }
}

/**
 * The certificate factory (@peculiar/x509, 22 MB of RSS once loaded), loaded only when a
 * certificate is made: a `ferry up` without agents, or a server whose certificates are valid, never
 * loads it.
 */
function certificateFactory(): Promise<typeof import('./certificate-factory.js')> {
  return import('./certificate-factory.js');
}
