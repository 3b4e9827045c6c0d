import { FerryError } from '../../errors/ferry-error.js';
import { redactText } from '../../lib/redact.js';

/** Where a key-value store lives, from its URL. */
export type StoreLocation =
  | { readonly driver: 'sqlite'; readonly path: string }
  | {
      readonly driver: 'etcd';
      /** host:port of each member, as given (IPv6 in brackets). */
      readonly endpoints: readonly string[];
      /** The installation's key prefix, ending with '/'. */
      readonly prefix: string;
      readonly auth?: { readonly username: string; readonly password: string };
    };

export const DEFAULT_ETCD_PORT = 2379;
/** The key prefix of an etcd URL without a path. */
export const DEFAULT_ETCD_PREFIX = '/ferry/';

const FORMS = 'sqlite:/path/to/file.db, a plain file path, or etcd://host:port[,host:port...][/prefix]';
const HOST = /^(?:\[[0-9a-fA-F:.]+\]|[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?)$/;
const PREFIX_SEGMENT = /^[A-Za-z0-9._~-]+$/;

/**
 * Reads a store URL (`ferry server --store URL`):
 * - `sqlite:/var/lib/ferry/kv.db` (or `sqlite:///var/...`), or a plain path: the SQLite store there;
 * - `etcd://[user:password@]host[:port][,host[:port]...][/prefix]`: etcd's members (port 2379 by
 *   default) and the installation's key prefix (`/ferry/` by default). The password is only ever
 *   given to etcd: errors show the URL without it.
 * A malformed URL fails with FERRY_E_USAGE naming `where` (the flag or setting it came from).
 */
export function parseStoreUrl(url: string, where = '--store'): StoreLocation {
  const bad = (problem: string, expected = FORMS): FerryError =>
    new FerryError('FERRY_E_USAGE', `${where}: ${problem}: expected ${expected}, got ${shown(url)}`, {
      where,
      expected,
      got: shown(url),
    });
  if (url.trim() === '') throw bad('the store URL is empty');
  const scheme = /^([A-Za-z][A-Za-z0-9+.-]*):/.exec(url)?.[1]?.toLowerCase();
  if (scheme === undefined) return { driver: 'sqlite', path: url };
  if (scheme === 'sqlite') return { driver: 'sqlite', path: sqlitePath(url.slice('sqlite:'.length), bad) };
  if (scheme === 'etcd') return etcdLocation(url, bad);
  throw bad(`unknown store scheme "${scheme}:"`);
}

function sqlitePath(rest: string, bad: (problem: string, expected?: string) => FerryError): string {
  let path = rest;
  if (rest.startsWith('//')) {
    // sqlite:///abs/path as in a file URL; a host (sqlite://host/...) means nothing here.
    if (!rest.startsWith('///')) throw bad('a SQLite store URL has no host', 'sqlite:/path/to/file.db');
    path = rest.slice(2);
  }
  if (path === '') throw bad('the SQLite store URL has no path', 'sqlite:/path/to/file.db');
  return path;
}

function etcdLocation(url: string, bad: (problem: string, expected?: string) => FerryError): StoreLocation {
  const expected = 'etcd://host:port[,host:port...][/prefix]';
  if (!url.slice('etcd:'.length).startsWith('//')) throw bad('an etcd URL starts with etcd://', expected);
  if (/[?#]/.test(url)) throw bad('an etcd URL has no query or fragment', expected);
  const rest = url.slice('etcd://'.length);
  const slash = rest.indexOf('/');
  let authority = slash === -1 ? rest : rest.slice(0, slash);
  const path = slash === -1 ? '' : rest.slice(slash);

  let auth: { username: string; password: string } | undefined;
  const at = authority.lastIndexOf('@');
  if (at !== -1) {
    const userinfo = authority.slice(0, at);
    authority = authority.slice(at + 1);
    const colon = userinfo.indexOf(':');
    const username = decode(colon === -1 ? userinfo : userinfo.slice(0, colon));
    const password = colon === -1 ? undefined : decode(userinfo.slice(colon + 1));
    if (username === undefined || username === '' || password === undefined) {
      throw bad(
        'etcd credentials are user:password before the host',
        'etcd://user:password@host:port[/prefix]',
      );
    }
    auth = { username, password };
  }
  if (authority === '') throw bad('the etcd URL names no host', expected);
  const endpoints = authority.split(',').map((member) => endpoint(member, bad, expected));
  return { driver: 'etcd', endpoints, prefix: keyPrefix(path, bad), ...(auth === undefined ? {} : { auth }) };
}

function endpoint(
  member: string,
  bad: (problem: string, expected?: string) => FerryError,
  expected: string,
): string {
  const match = /^(\[[^\]]*\]|[^:]*)(?::(.*))?$/.exec(member);
  const host = match?.[1] ?? '';
  const port = match?.[2];
  if (host === '') throw bad(`the etcd member "${member}" names no host`, expected);
  if (!HOST.test(host)) throw bad(`"${host}" is not a host name or IP address`, expected);
  if (port === undefined) return `${host}:${DEFAULT_ETCD_PORT}`;
  if (!/^[0-9]{1,5}$/.test(port) || Number(port) < 1 || Number(port) > 65_535) {
    throw bad(`the port of "${member}" is not a port`, 'a port from 1 to 65535');
  }
  return `${host}:${Number(port)}`;
}

/** '/ferry-prod' or '/ferry-prod/' -> '/ferry-prod/'; nothing or '/' -> the default prefix. */
function keyPrefix(path: string, bad: (problem: string, expected?: string) => FerryError): string {
  const segments = path.split('/').filter((segment) => segment !== '');
  if (segments.length === 0) return DEFAULT_ETCD_PREFIX;
  if (/\/\//.test(path.replace(/\/+$/, '')) || segments.some((segment) => !PREFIX_SEGMENT.test(segment))) {
    throw bad(
      'the key prefix of an etcd URL is made of path segments of letters, digits, ".", "_", "~" and "-"',
      'a prefix like /ferry-prod',
    );
  }
  return `/${segments.join('/')}/`;
}

function decode(text: string): string | undefined {
  try {
    return decodeURIComponent(text);
  } catch {
    return undefined;
  }
}

/** The URL as errors may show it: without credentials. */
function shown(url: string): string {
  const withoutUserinfo = url.replace(/^([A-Za-z][A-Za-z0-9+.-]*:\/\/)[^/@]*@/, '$1');
  return JSON.stringify(redactText(withoutUserinfo));
}
