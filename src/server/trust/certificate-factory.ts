// @peculiar/x509 uses decorators that read metadata: reflect-metadata must load before it.
import 'reflect-metadata';
import * as x509 from '@peculiar/x509';
import { createPrivateKey, KeyObject, webcrypto } from 'node:crypto';
import { isIP } from 'node:net';

x509.cryptoProvider.set(webcrypto);

const DAY_MS = 24 * 60 * 60 * 1000;
/** How long the quick setup's CA lives: agents pin it, so it should outlive the hosts. */
export const CA_VALIDITY_MS = 3650 * DAY_MS;
/** How long a server certificate lives; it is renewed 30 days before it expires. */
export const SERVER_CERT_VALIDITY_MS = 365 * DAY_MS;
/** Certificates start an hour back, so a host whose clock lags a little still accepts them. */
const BACKDATE_MS = 60 * 60 * 1000;

const EC_KEY = { name: 'ECDSA', namedCurve: 'P-256' } as const;
const SIGNING = { name: 'ECDSA', hash: 'SHA-256' } as const;

/** A certificate and its private key, as PEM text. */
export interface CertificateAndKey {
  readonly cert: string;
  readonly key: string;
}

/** A certificate just made, with when it expires (ms since the epoch). */
export interface IssuedCertificate extends CertificateAndKey {
  readonly expiresAt: number;
}

/** A new self-signed CA (ECDSA P-256, ten years) that may sign server certificates only. */
export async function createCaCertificate(now: number): Promise<IssuedCertificate> {
  const keys = await webcrypto.subtle.generateKey(EC_KEY, true, ['sign', 'verify']);
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    name: 'CN=Ferry CA, O=Ferry',
    keys,
    signingAlgorithm: SIGNING,
    notBefore: new Date(now - BACKDATE_MS),
    notAfter: new Date(now + CA_VALIDITY_MS),
    extensions: [
      // pathLength 0: the CA signs leaf certificates, never another CA.
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  return {
    cert: cert.toString('pem') + '\n',
    key: exportKey(keys.privateKey),
    expiresAt: cert.notAfter.getTime(),
  };
}

/**
 * A server certificate (ECDSA P-256, one year) signed by the CA, for the given names: each is a
 * DNS name or an IP address (IPv4 or IPv6) in the certificate's subject alternative names.
 */
export async function issueServerCertificate(
  ca: CertificateAndKey,
  names: readonly string[],
  now: number,
): Promise<IssuedCertificate> {
  const caCert = new x509.X509Certificate(ca.cert);
  const caKey = await webcrypto.subtle.importKey(
    'pkcs8',
    createPrivateKey(ca.key).export({ type: 'pkcs8', format: 'der' }),
    EC_KEY,
    false,
    ['sign'],
  );
  const keys = await webcrypto.subtle.generateKey(EC_KEY, true, ['sign', 'verify']);
  const caKeyId = caCert.getExtension(x509.SubjectKeyIdentifierExtension)?.keyId;
  const cert = await x509.X509CertificateGenerator.create({
    subject: `CN=${names[0] ?? 'ferry'}`,
    issuer: caCert.subject,
    publicKey: keys.publicKey,
    signingKey: caKey,
    signingAlgorithm: SIGNING,
    notBefore: new Date(now - BACKDATE_MS),
    notAfter: new Date(now + SERVER_CERT_VALIDITY_MS),
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
      new x509.SubjectAlternativeNameExtension(
        names.map((name) => ({ type: isIP(name) === 0 ? 'dns' : 'ip', value: name })),
      ),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
      ...(caKeyId === undefined ? [] : [new x509.AuthorityKeyIdentifierExtension(caKeyId)]),
    ],
  });
  return {
    cert: cert.toString('pem') + '\n',
    key: exportKey(keys.privateKey),
    expiresAt: cert.notAfter.getTime(),
  };
}

function exportKey(key: webcrypto.CryptoKey): string {
  return KeyObject.from(key).export({ type: 'pkcs8', format: 'pem' }).toString();
}
