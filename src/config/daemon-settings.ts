import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parseDocument } from 'yaml';
import { DEFAULT_API_LISTEN, apiUrlOf, parseListen } from './listen-address.js';

/** What a client needs from a ferry.yaml to find the daemon it configures. */
export interface DaemonSettings {
  /** data_dir, absolute (relative to the file's directory); null when the file does not set it. */
  readonly dataDir: string | null;
  /** The API's URL, from api.listen (or its default) and api.tls. */
  readonly apiUrl: string;
  /** Whether the file sets api.listen (else apiUrl is the default address). */
  readonly listenSet: boolean;
  /** api.tls.cert, absolute: the certificate to trust at apiUrl; null without TLS. */
  readonly certFile: string | null;
}

/**
 * Reads data_dir and api from a ferry.yaml, and nothing else, so that every command finds the
 * daemon a configuration names without loading the schema (zod and the compiler cost a status
 * call more than its request). When those keys are anything but plainly valid, or the YAML is
 * broken, the file goes through the full loader instead, whose error is the one `ferry config
 * check` gives.
 */
export async function readDaemonSettings(file: string): Promise<DaemonSettings> {
  return readPlainly(file) ?? (await readFully(file));
}

function readPlainly(file: string): DaemonSettings | undefined {
  let raw: unknown;
  try {
    const doc = parseDocument(readFileSync(file, 'utf8'));
    if (doc.errors.length > 0) return undefined;
    raw = doc.toJS() ?? {};
  } catch {
    return undefined;
  }
  if (!isMapping(raw)) return undefined;
  const baseDir = path.dirname(path.resolve(file));
  const dataDir = raw.data_dir;
  const api = raw.api ?? {};
  if ((dataDir !== undefined && typeof dataDir !== 'string') || !isMapping(api)) return undefined;
  const listen = parseListen(api.listen ?? DEFAULT_API_LISTEN);
  const tls = api.tls;
  if (listen === undefined) return undefined;
  if (tls !== undefined && !(isMapping(tls) && typeof tls.cert === 'string' && tls.cert !== ''))
    return undefined;
  return {
    dataDir: dataDir ? path.resolve(baseDir, dataDir) : null,
    apiUrl: apiUrlOf(listen, tls !== undefined),
    listenSet: api.listen !== undefined,
    certFile: tls ? path.resolve(baseDir, tls.cert as string) : null,
  };
}

async function readFully(file: string): Promise<DaemonSettings> {
  const { loadConfig } = await import('./load.js');
  // Without FERRY_HOME the compiled data directory is the file's own (or ~/.ferry).
  const { FERRY_HOME: _home, ...env } = process.env;
  const config = loadConfig(file, env);
  return {
    dataDir: config.dataDir,
    apiUrl: apiUrlOf(config.api.listen, config.api.tls !== null),
    listenSet: true,
    certFile: config.api.tls?.certFile ?? null,
  };
}

function isMapping(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
