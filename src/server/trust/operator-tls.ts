import { certificateFingerprint } from '../../lib/certificate-pem.js';
import { systemClock, type Clock } from '../../lib/clock.js';
import type { ServerTls } from './server-tls.js';
import {
  checkKeyMatches,
  checkValidAt,
  expiresAt,
  isIssuedBy,
  readCertificates,
  readPrivateKey,
  tlsProblem,
  type CertificateFile,
} from './tls-files.js';

/** The operator's own TLS files (paths). */
export interface OperatorTlsFiles {
  /** The server's certificate, optionally followed by intermediates (PEM). */
  readonly certFile: string;
  /** Its private key (PEM, unencrypted). */
  readonly keyFile: string;
  /** The CA agents trust (PEM): the root the certificate chains to. */
  readonly caFile: string;
}

/** Intermediates between a server certificate and its CA: more than this is a loop or a mistake. */
const MAX_CHAIN = 8;

/**
 * Loads the operator's certificate, key and CA and checks that they belong together: the key is
 * the certificate's, the certificate chains to a CA of the CA file (through the intermediates
 * that follow it in its file), and every certificate of that chain is valid now. Anything else is
 * FERRY_E_TLS_INVALID naming the file at fault, before the server listens.
 */
export function loadOperatorTls(files: OperatorTlsFiles, clock: Clock = systemClock): ServerTls {
  const now = clock.now();
  const [leaf, ...intermediates] = readCertificates(files.certFile, 'the server certificate');
  const cas = readCertificates(files.caFile, 'the CA agents trust');
  const key = readPrivateKey(files.keyFile, 'the server key');
  if (leaf === undefined) throw tlsProblem(files.certFile, 'a PEM certificate', 'none');
  checkKeyMatches(leaf, files.keyFile, key.key);
  checkValidAt(leaf, now, 'a server certificate');

  const chain: CertificateFile[] = [leaf];
  const issuerOf = (cert: CertificateFile, among: readonly CertificateFile[]) =>
    among.find(
      (candidate) => !chain.includes(candidate) && isIssuedBy(cert.certificate, candidate.certificate),
    );
  let current = leaf;
  let ca = issuerOf(current, cas);
  while (ca === undefined) {
    const next = chain.length > MAX_CHAIN ? undefined : issuerOf(current, intermediates);
    if (next === undefined) {
      throw tlsProblem(
        files.certFile,
        `a certificate issued by the CA in ${files.caFile} (or through intermediates that follow it in its file)`,
        `a certificate issued by "${current.certificate.issuer.replaceAll('\n', ', ')}"`,
      );
    }
    checkValidAt(next, now, 'intermediate certificates');
    chain.push(next);
    current = next;
    ca = issuerOf(current, cas);
  }
  if (!ca.certificate.ca)
    throw tlsProblem(files.caFile, 'a CA certificate', 'a certificate that is not a CA');
  checkValidAt(ca, now, 'a CA certificate');

  // The CA goes out with the chain (unless it is there already) so an agent can pin it by fingerprint.
  const presented = chain.some((cert) => cert.certificate.raw.equals(ca.certificate.raw))
    ? chain
    : [...chain, ca];
  return {
    key: key.pem,
    cert: presented.map((cert) => cert.pem).join(''),
    ca: ca.pem,
    caFingerprint: certificateFingerprint(ca.certificate),
    expiresAt: expiresAt(leaf.certificate),
    source: 'operator',
    created: { ca: false, serverCertificate: false },
  };
}
