import { X509Certificate } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { FerryError, messageOf } from '../../errors/ferry-error.js';
import {
  certificateFingerprint,
  normalizeFingerprint,
  splitPemCertificates,
} from '../../lib/certificate-pem.js';
import { writePrivateFile } from '../../lib/private-file.js';
import { redactUrl } from '../../lib/redact.js';
import { checkServerTrusted, fetchServerChain, HANDSHAKE_TIMEOUT_MS } from './server-handshake.js';

/** The CA an agent trusts for its server, and only it. */
export interface PinnedCa {
  /** The CA certificate(s), PEM. */
  readonly pem: string;
  /** The fingerprint of the (first) CA certificate. */
  readonly fingerprint: string;
  /** Where it came from: the operator's file, the copy in the agent's data directory, or fetched now. */
  readonly source: 'ca-file' | 'stored' | 'fetched';
}

export interface PinServerCaOptions {
  /** The server's https:// URL (parseServerUrl). */
  readonly serverUrl: URL;
  /** The agent's data directory: the pinned CA is kept in it as `server-ca.pem`. */
  readonly dataDir: string;
  /** `--ca-fingerprint`: the CA's fingerprint as `ferry server` prints it. */
  readonly fingerprint?: string;
  /** `--ca-file`: the CA as a PEM file, instead of a fingerprint. */
  readonly caFile?: string;
  readonly timeoutMs?: number;
}

/** The file in the agent's data directory that keeps the pinned CA. */
export function pinnedCaFile(dataDir: string): string {
  return path.join(dataDir, 'server-ca.pem');
}

/**
 * The CA the agent trusts for its server:
 * - `caFile`: the operator's CA file, as it is (no network);
 * - `fingerprint`: the CA kept from an earlier start when it has that fingerprint (no network, so
 *   an agent restarts while the server is away); otherwise fetched once from the server's chain,
 *   checked against the fingerprint (FERRY_E_CA_FINGERPRINT_MISMATCH names the expected one and
 *   what the server presented), checked to vouch for the server under its name, and kept;
 * - neither: the CA kept from an earlier start.
 */
export async function pinServerCa(options: PinServerCaOptions): Promise<PinnedCa> {
  if (options.caFile !== undefined && options.fingerprint !== undefined) {
    throw usage('one of --ca-fingerprint or --ca-file', 'both');
  }
  if (options.caFile !== undefined) return { ...readCaFile(options.caFile, '--ca-file'), source: 'ca-file' };

  const file = pinnedCaFile(options.dataDir);
  const stored = existsSync(file) ? readCaFile(file, 'the pinned CA') : undefined;
  if (options.fingerprint === undefined) {
    if (stored === undefined) {
      throw usage(
        '--ca-fingerprint sha256:... (printed by ferry server) or --ca-file',
        'neither, and no CA pinned before',
      );
    }
    return { ...stored, source: 'stored' };
  }
  const expected = normalizeFingerprint(options.fingerprint);
  if (expected === null) {
    throw usage(
      '--ca-fingerprint sha256: and 64 hex digits',
      JSON.stringify(options.fingerprint.slice(0, 120)),
    );
  }
  if (stored?.fingerprint === expected) return { ...stored, source: 'stored' };

  const timeoutMs = options.timeoutMs ?? HANDSHAKE_TIMEOUT_MS;
  const chain = await fetchServerChain(options.serverUrl, timeoutMs);
  const ca = chain.find((cert) => certificateFingerprint(cert) === expected);
  if (ca === undefined || !ca.ca) throw fingerprintMismatch(options.serverUrl, expected, chain, ca);
  const pem = ca.toString();
  await checkServerTrusted(options.serverUrl, pem, timeoutMs);
  mkdirSync(options.dataDir, { recursive: true, mode: 0o700 });
  writePrivateFile(file, pem);
  return { pem, fingerprint: expected, source: 'fetched' };
}

/** A PEM file of CA certificates: every certificate in it must be a CA. */
function readCaFile(file: string, what: string): { readonly pem: string; readonly fingerprint: string } {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw caFileProblem(file, what, (error as NodeJS.ErrnoException).code ?? messageOf(error), error);
  }
  const pems = splitPemCertificates(text);
  if (pems.length === 0) throw caFileProblem(file, what, 'no "BEGIN CERTIFICATE" block');
  const certs = pems.map((pem, index) => {
    try {
      return new X509Certificate(pem);
    } catch (error) {
      throw caFileProblem(file, what, `an unreadable certificate #${index + 1} (${messageOf(error)})`, error);
    }
  });
  const [first] = certs;
  const notCa = certs.findIndex((cert) => !cert.ca);
  if (first === undefined || notCa !== -1)
    throw caFileProblem(file, what, `certificate #${notCa + 1} is not a CA (${certs[notCa]?.subject})`);
  return { pem: pems.join(''), fingerprint: certificateFingerprint(first) };
}

function fingerprintMismatch(
  url: URL,
  expected: string,
  chain: readonly X509Certificate[],
  match: X509Certificate | undefined,
): FerryError {
  const presented = chain.map(
    (cert) => `${certificateFingerprint(cert)} (${cert.subject.replaceAll('\n', ', ')})`,
  );
  const got =
    match === undefined
      ? `a chain of ${presented.length === 0 ? 'no certificate' : presented.join('; ')}`
      : `that fingerprint on a certificate that is not a CA (${match.subject.replaceAll('\n', ', ')}): pin the CA's fingerprint`;
  return new FerryError(
    'FERRY_E_CA_FINGERPRINT_MISMATCH',
    `the server at ${redactUrl(url)}: expected a CA with fingerprint ${expected}, got ${got}`,
    { where: redactUrl(url), expected, got, presented: chain.map((cert) => certificateFingerprint(cert)) },
  );
}

function caFileProblem(file: string, what: string, got: string, cause?: unknown): FerryError {
  return new FerryError(
    'FERRY_E_TLS_INVALID',
    `${file}: expected a PEM file of CA certificates (${what}), got ${got}`,
    { where: file, file, expected: 'a PEM file of CA certificates', got },
    { cause },
  );
}

function usage(expected: string, got: string): FerryError {
  return new FerryError('FERRY_E_USAGE', `the server's CA: expected ${expected}, got ${got}`, {
    where: '--ca-fingerprint',
    expected,
    got,
  });
}
