import { readFileSync } from 'node:fs';
import type { IncomingMessage } from 'node:http';
import type { RequestOptions } from 'node:https';
import { FerryError, messageOf } from '../errors/ferry-error.js';

/** One HTTP exchange of the CLI with the daemon. */
export interface Exchange {
  readonly method: string;
  readonly url: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly body?: string;
  readonly signal?: AbortSignal;
}

/**
 * Sends a request with node:http (or node:https) and resolves with the response once its headers
 * arrived. Not the global fetch: its first call loads and compiles undici, which costs a one-shot
 * command like `ferry status` more than everything else it does. One connection per request
 * (agent: false): the process exits as soon as the command is done.
 *
 * With certFile (the daemon's own certificate, from daemon.json or api.tls), that very certificate
 * is trusted whatever name the URL uses (the daemon may listen on 0.0.0.0), besides the usual
 * roots; any other must match the host as usual.
 */
export async function send(exchange: Exchange, certFile: string | undefined): Promise<IncomingMessage> {
  const https = exchange.url.startsWith('https:');
  const options: RequestOptions = {
    method: exchange.method,
    headers:
      exchange.body === undefined
        ? exchange.headers
        : { ...exchange.headers, 'content-length': `${Buffer.byteLength(exchange.body)}` },
    agent: false,
    ...(exchange.signal ? { signal: exchange.signal } : {}),
    // TLS and X.509 code is loaded for https only.
    ...(https && certFile !== undefined ? await trusting(certFile) : {}),
  };
  const { request } = https ? await import('node:https') : await import('node:http');
  return new Promise<IncomingMessage>((resolve, reject) => {
    const req = request(exchange.url, options, resolve);
    req.once('error', reject);
    req.end(exchange.body);
  });
}

async function trusting(certFile: string): Promise<RequestOptions> {
  const { X509Certificate } = await import('node:crypto');
  const { checkServerIdentity, rootCertificates } = await import('node:tls');
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
  return {
    ca: [...rootCertificates, pem],
    checkServerIdentity: (host, cert) =>
      cert.fingerprint256 === pinned ? undefined : checkServerIdentity(host, cert),
  };
}
