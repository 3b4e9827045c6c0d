import { FerryError } from '../../errors/ferry-error.js';
import { redactUrl } from '../../lib/redact.js';

/** The server's address as `ferry agent --server` takes it: an https:// URL. */
export function parseServerUrl(text: string): URL {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw serverUrlProblem(redactUrl(text));
  }
  if (url.protocol !== 'https:') throw serverUrlProblem(redactUrl(url));
  return url;
}

/** Host and port to dial, and the name the server's certificate must carry. */
export function serverEndpoint(url: URL): { readonly host: string; readonly port: number } {
  // URL keeps an IPv6 host in brackets; sockets want it without.
  const host = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
  return { host, port: url.port === '' ? 443 : Number(url.port) };
}

function serverUrlProblem(got: string): FerryError {
  return new FerryError(
    'FERRY_E_USAGE',
    `--server: expected an https:// URL of the Ferry server (https://host:port), got ${JSON.stringify(got)}`,
    { where: '--server', expected: 'https://host:port', got },
  );
}
