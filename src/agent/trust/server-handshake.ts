import { X509Certificate } from 'node:crypto';
import { isIP } from 'node:net';
import { connect, type DetailedPeerCertificate, type TLSSocket } from 'node:tls';
import { FerryError, messageOf } from '../../errors/ferry-error.js';
import { redactUrl } from '../../lib/redact.js';
import { serverEndpoint } from './server-url.js';

/** How long a handshake with the server may take before it counts as unreachable. */
export const HANDSHAKE_TIMEOUT_MS = 10_000;

/**
 * The certificates the server presents, leaf first, read from a handshake that trusts nothing yet:
 * they are only looked at (for the CA whose fingerprint the operator pinned), never relied on.
 */
export async function fetchServerChain(
  url: URL,
  timeoutMs = HANDSHAKE_TIMEOUT_MS,
): Promise<X509Certificate[]> {
  const socket = await handshake(url, { rejectUnauthorized: false }, timeoutMs);
  try {
    const chain: X509Certificate[] = [];
    const seen = new Set<string>();
    for (
      let cert: DetailedPeerCertificate | undefined = socket.getPeerCertificate(true);
      cert?.raw !== undefined;
    ) {
      const key = cert.raw.toString('base64');
      if (seen.has(key)) break;
      seen.add(key);
      chain.push(new X509Certificate(cert.raw));
      cert = cert.issuerCertificate;
    }
    return chain;
  } finally {
    socket.destroy();
  }
}

/**
 * Checks that the server is trusted by the CA alone and carries the name it is reached by (a
 * handshake as every later request makes it); FERRY_E_SERVER_UNTRUSTED says why not.
 */
export async function checkServerTrusted(
  url: URL,
  ca: string,
  timeoutMs = HANDSHAKE_TIMEOUT_MS,
): Promise<void> {
  const socket = await handshake(url, { ca, rejectUnauthorized: true }, timeoutMs);
  socket.destroy();
}

/**
 * A TLS handshake with the server. A failure to reach it (refused, timed out, reset before the
 * handshake) is FERRY_E_SERVER_UNREACHABLE; a certificate the options refuse, or a peer that does
 * not speak TLS, is FERRY_E_SERVER_UNTRUSTED.
 */
function handshake(
  url: URL,
  options: { readonly ca?: string; readonly rejectUnauthorized: boolean },
  timeoutMs: number,
): Promise<TLSSocket> {
  const { host, port } = serverEndpoint(url);
  return new Promise((resolve, reject) => {
    const socket = connect({ host, port, ...(isIP(host) === 0 ? { servername: host } : {}), ...options });
    const fail = (error: Error) => {
      socket.destroy();
      reject(error);
    };
    socket.setTimeout(timeoutMs, () => fail(unreachable(url, `no handshake within ${timeoutMs} ms`)));
    socket.once('secureConnect', () => {
      socket.setTimeout(0);
      resolve(socket);
    });
    socket.once('error', (error: NodeJS.ErrnoException) => {
      // System errors (ECONNREFUSED, EAI_AGAIN...) mean the server was not reached; the others
      // (UNABLE_TO_VERIFY_LEAF_SIGNATURE, ERR_TLS_CERT_ALTNAME_INVALID, ERR_SSL_...) that it was.
      const code = error.code ?? '';
      fail(/^E[A-Z]+$|^EAI_/.test(code) ? unreachable(url, code) : untrusted(url, error));
    });
  });
}

function untrusted(url: URL, error: Error): FerryError {
  return new FerryError(
    'FERRY_E_SERVER_UNTRUSTED',
    `the server at ${redactUrl(url)}: expected a certificate issued by the pinned CA for ${url.hostname}, got ${messageOf(error)}`,
    {
      where: redactUrl(url),
      expected: `a certificate issued by the pinned CA for ${url.hostname}`,
      got: messageOf(error),
    },
    { cause: error },
  );
}

function unreachable(url: URL, got: string): FerryError {
  return new FerryError(
    'FERRY_E_SERVER_UNREACHABLE',
    `the server at ${redactUrl(url)} cannot be reached: ${got}`,
    { where: redactUrl(url), got },
  );
}
