import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { checkServerIdentity, rootCertificates } from 'node:tls';
import { Agent, fetch as undiciFetch } from 'undici';
import { FerryError, messageOf } from '../errors/ferry-error.js';

/**
 * A fetch that trusts the local daemon's certificate (daemon.json's certFile) besides the usual
 * roots. That very certificate is accepted whatever name the URL uses (the daemon may listen on
 * 0.0.0.0); any other must match the host as usual. Loaded only for https URLs: the CLI's http path
 * never pays for undici and TLS.
 */
export function trustedFetch(certFile: string): typeof fetch {
  let pem: string;
  let pinned: string;
  try {
    pem = readFileSync(certFile, 'utf8');
    pinned = new X509Certificate(pem).fingerprint256;
  } catch (error) {
    throw new FerryError(
      'FERRY_E_DAEMON_UNREACHABLE',
      `cannot trust the daemon's certificate: expected a readable PEM certificate at ${certFile}, got ${messageOf(error)}`,
      { where: certFile },
      { cause: error },
    );
  }
  const dispatcher = new Agent({
    connect: {
      ca: [...rootCertificates, pem],
      checkServerIdentity: (host, cert) =>
        cert.fingerprint256 === pinned ? undefined : checkServerIdentity(host, cert),
    },
  });
  return ((input: string, init?: RequestInit) =>
    undiciFetch(input, { ...(init as object), dispatcher })) as unknown as typeof fetch;
}
