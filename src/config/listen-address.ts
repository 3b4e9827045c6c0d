/**
 * Listen addresses as ferry.yaml writes them, without the schema's dependencies: the CLI reads
 * api.listen with this to find its daemon, and the schema validates with the same parser.
 */

export interface ListenAddress {
  readonly host: string;
  readonly port: number;
}

/** api.listen when ferry.yaml does not set it. */
export const DEFAULT_API_LISTEN = '127.0.0.1:7070';

/** Where `ferry server` takes agents' connections (HTTPS): every interface, as agents are elsewhere. */
export const DEFAULT_AGENTS_LISTEN = '0.0.0.0:7443';

/** "127.0.0.1:8080", "8080", ":8080" or 8080 -> { host, port } (host defaults to 127.0.0.1). */
export function parseListen(value: unknown): ListenAddress | undefined {
  const text =
    typeof value === 'number' ? String(value) : typeof value === 'string' ? value.trim() : undefined;
  if (text === undefined) return undefined;
  const match = /^(?:(\[[0-9a-fA-F:]+\]|[\w.-]+)?:)?(\d{1,5})$/.exec(text);
  if (!match) return undefined;
  const port = Number(match[2]);
  if (port < 1 || port > 65535) return undefined;
  const host = (match[1] ?? '127.0.0.1').replace(/^\[|\]$/g, '');
  return { host, port };
}

/** The URL of an API listening on this address: what the daemon writes in daemon.json. */
export function apiUrlOf(listen: ListenAddress, https: boolean): string {
  const host = listen.host.includes(':') ? `[${listen.host}]` : listen.host;
  return `${https ? 'https' : 'http'}://${host}:${listen.port}`;
}
