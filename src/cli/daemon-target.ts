import path from 'node:path';
import type { Command } from 'commander';
import { readDaemonInfo, readToken } from '../api/discovery.js';
import { configFlag, findConfigFile, type ConfigFile } from '../config/config-file.js';
import type { DaemonSettings } from '../config/daemon-settings.js';
import { resolveDataDir } from '../config/home.js';
import { FerryError } from '../errors/ferry-error.js';
import { sameOrigin } from '../lib/same-origin.js';
import { shellWord } from '../lib/shell-word.js';

/** The options every command takes (--home, --url, --token on the program; -c on each command). */
export interface GlobalOptions {
  home?: string;
  url?: string;
  token?: string;
  config?: string;
}

/** The daemon a command talks to, and why that one. */
export interface DaemonTarget {
  readonly url: string;
  readonly token: string;
  /** The daemon's own certificate, trusted for its https URL. */
  readonly certFile: string | undefined;
  /** Where the URL came from, e.g. "api.listen in ferry.yaml": said in errors about this daemon. */
  readonly source: string;
  /** The command that starts this daemon, e.g. "ferry up -c deploy/ferry.yaml". */
  readonly upCommand: string;
  /**
   * What a printed command needs to ask this daemon (as in `ferry up`'s banner): -c unless the file
   * is ./ferry.yaml, --home and --url when given as flags, e.g. " -c deploy/ferry.yaml".
   */
  readonly flags: string;
}

/** The data directory of a command and where that choice came from. */
export interface DataDirChoice {
  readonly home: string;
  /** "--home", "FERRY_HOME", "data_dir in ferry.yaml" or "the default". */
  readonly from: string;
}

/**
 * Finds the daemon as `ferry up` would start it from the same options: --url (FERRY_URL) wins; else
 * the data directory (--home, FERRY_HOME, the configuration's data_dir, ~/.ferry) and its
 * daemon.json; else the configuration's api.listen. The configuration (-c, else ./ferry.yaml) is
 * read only when one of those is needed, and then only its data_dir and api.
 */
export async function resolveDaemonTarget(command: Command): Promise<DaemonTarget> {
  const opts = command.optsWithGlobals<GlobalOptions>();
  const config = new ConfigReader(findConfigFile(opts.config));
  // A file named with -c is always read: a wrong path or a broken file is said, never ignored.
  if (config.file?.explicit) await config.settings();
  const { home, from } = await resolveHome(command, config);
  const homeFlags = `${configFlag(config.file)}${opts.home ? ` --home ${shellWord(opts.home)}` : ''}`;
  const upCommand = `ferry up${homeFlags}`;
  const urlFlag =
    opts.url && rootOf(command).getOptionValueSource('url') !== 'env' ? ` --url ${shellWord(opts.url)}` : '';
  const info = readDaemonInfo(home);
  const located = await locate();
  const token = opts.token ?? readToken(home);
  if (!token) {
    throw new FerryError(
      'FERRY_E_UNAUTHORIZED',
      `no API token for the daemon at ${located.url}: expected ${path.join(home, 'api-token')} (data directory from ${from}) or FERRY_TOKEN`,
      { where: home },
    );
  }
  return { ...located, token, upCommand, flags: `${homeFlags}${urlFlag}` };

  async function locate(): Promise<Omit<DaemonTarget, 'token' | 'upCommand' | 'flags'>> {
    if (opts.url) {
      const url = trimSlash(opts.url);
      const flag = rootOf(command).getOptionValueSource('url') === 'env' ? 'FERRY_URL' : '--url';
      // The daemon's own certificate is trusted only for the address it wrote down.
      const certFile = info?.certFile !== undefined && sameOrigin(url, info.url) ? info.certFile : undefined;
      return { url, certFile, source: flag };
    }
    if (info) {
      return {
        url: trimSlash(info.url),
        certFile: info.certFile,
        source: `from ${path.join(home, 'daemon.json')}; data directory from ${from}`,
      };
    }
    const settings = await config.settings();
    if (settings && config.file) {
      return {
        url: settings.apiUrl,
        certFile: settings.certFile ?? undefined,
        source: settings.listenSet
          ? `api.listen in ${config.file.shown}`
          : `the default api.listen; ${config.file.shown} sets none`,
      };
    }
    throw new FerryError(
      'FERRY_E_DAEMON_UNREACHABLE',
      `no Ferry daemon found: ${home} (data directory from ${from}) has no daemon.json, and no ferry.yaml here names an API address (-c FILE); start one with: ${upCommand}`,
      { where: home },
    );
  }
}

/** The data directory: --home, FERRY_HOME, data_dir in the configuration, ~/.ferry. */
export async function resolveHome(command: Command, config: ConfigReader): Promise<DataDirChoice> {
  const opts = command.optsWithGlobals<GlobalOptions>();
  const env = opts.home ? { ...process.env, FERRY_HOME: opts.home } : process.env;
  const dataDir = env.FERRY_HOME ? null : ((await config.settings())?.dataDir ?? null);
  const home = resolveDataDir(dataDir ?? undefined, process.cwd(), env);
  const from = opts.home
    ? '--home'
    : env.FERRY_HOME
      ? 'FERRY_HOME'
      : dataDir !== null && config.file
        ? `data_dir in ${config.file.shown}`
        : 'the default';
  return { home, from };
}

/** The configuration's data_dir and api, read once and only when asked for. */
export class ConfigReader {
  private read: Promise<DaemonSettings | null> | undefined;

  constructor(readonly file: ConfigFile | null) {}

  settings(): Promise<DaemonSettings | null> {
    const file = this.file;
    this.read ??= file
      ? import('../config/daemon-settings.js').then((m) => m.readDaemonSettings(file.path))
      : Promise.resolve(null);
    return this.read;
  }
}

function rootOf(command: Command): Command {
  let root = command;
  while (root.parent) root = root.parent;
  return root;
}

function trimSlash(url: string): string {
  return url.replace(/\/$/, '');
}
