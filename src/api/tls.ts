import { readFileSync } from 'node:fs';
import { createSecureContext } from 'node:tls';
import { FerryError, messageOf } from '../errors/ferry-error.js';

/** The API's certificate and key, as PEM text. */
export interface ApiTls {
  readonly cert: string;
  readonly key: string;
}

/**
 * Reads api.tls's certificate and key and checks that they make a TLS context (a key that does not
 * match its certificate fails here, at start, rather than at the first client's handshake).
 */
export function loadApiTls(files: { readonly certFile: string; readonly keyFile: string }): ApiTls {
  const cert = readPem(files.certFile, 'api.tls.cert');
  const key = readPem(files.keyFile, 'api.tls.key');
  try {
    createSecureContext({ cert, key });
  } catch (error) {
    throw tlsProblem('api.tls', `expected a PEM certificate and its private key, got ${messageOf(error)}`);
  }
  return { cert, key };
}

function readPem(file: string, path: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (error) {
    throw tlsProblem(path, `expected a readable PEM file, got ${messageOf(error)}`, error);
  }
}

function tlsProblem(path: string, message: string, cause?: unknown): FerryError {
  return new FerryError(
    'FERRY_E_CONFIG_INVALID',
    `${path}: ${message}`,
    { where: path, problems: [{ path, message }] },
    { cause },
  );
}
