import { isScalar, parseDocument } from 'yaml';
import { fetchText } from '../artifacts/index.js';
import { redactUrl } from '../lib/redact.js';
import { describeValue, FerryError, messageOf } from '../errors/ferry-error.js';
import { renderManifestTemplate } from './template.js';

export type SyncStrategy = 'rsync' | 'mv';

/** A stretcher-compatible deploy manifest, validated. */
export interface Manifest {
  /** Empty: commands-only mode (nothing is fetched or synced). */
  readonly src: string;
  readonly checksum: string;
  readonly dest: string;
  readonly destMode: number;
  readonly commands: {
    readonly pre: readonly string[];
    readonly post: readonly string[];
    readonly success: readonly string[];
    readonly failure: readonly string[];
  };
  readonly excludes: readonly string[];
  readonly excludeFrom: string;
  readonly syncStrategy: SyncStrategy;
}

export const DEFAULT_DEST_MODE = 0o755;

/** Reads a manifest from file:// or http(s)://. */
export async function fetchManifestText(url: string, signal?: AbortSignal): Promise<string> {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw unreachable(url, 'expected a URL like https://, s3://, gs:// or file://');
  }
  const label = redactUrl(parsed);
  try {
    // The artifact sources: the same schemes, status checks, redirects and credentials as src.
    return await fetchText({
      url: parsed,
      label,
      headers: {},
      signal: signal ?? new AbortController().signal,
    });
  } catch (error) {
    signal?.throwIfAborted();
    // Source messages already name the URL.
    throw new FerryError(
      'FERRY_E_MANIFEST_UNREACHABLE',
      `manifest: ${messageOf(error)}`,
      { where: label },
      { cause: error },
    );
  }
}

function unreachable(where: string, why: string, cause?: unknown): FerryError {
  return new FerryError('FERRY_E_MANIFEST_UNREACHABLE', `manifest ${where}: ${why}`, { where }, { cause });
}

/** Renders the template, parses the YAML (1.1, as stretcher does: 0755 is octal) and validates. */
export function parseManifest(text: string, env: NodeJS.ProcessEnv = process.env): Manifest {
  const rendered = renderManifestTemplate(text, env);
  const document = parseDocument(rendered, { version: '1.1' });
  if (document.errors.length > 0) {
    const first = document.errors[0];
    throw invalid(`manifest: invalid YAML: ${first?.message ?? 'unknown error'}`, 'manifest', first);
  }
  const raw: unknown = document.toJS() ?? {};
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw invalid(`manifest: expected a mapping, got ${describeValue(raw)}`, 'manifest');
  }
  // A checksum of digits only reads as a number in YAML; string fields keep the text as written.
  for (const key of ['src', 'checksum', 'dest', 'exclude_from']) {
    const node = document.get(key, true);
    if (isScalar(node) && typeof node.value === 'number' && typeof node.source === 'string') {
      (raw as Record<string, unknown>)[key] = node.source;
    }
  }
  const doc = raw as Record<string, unknown>;
  const commands = optionalMapping(doc.commands, 'commands');
  const manifest: Manifest = {
    src: optionalString(doc.src, 'src'),
    checksum: optionalString(doc.checksum, 'checksum'),
    dest: optionalString(doc.dest, 'dest'),
    destMode: parseMode(doc.dest_mode),
    commands: {
      pre: stringList(commands.pre, 'commands.pre'),
      post: stringList(commands.post, 'commands.post'),
      success: stringList(commands.success, 'commands.success'),
      failure: stringList(commands.failure, 'commands.failure'),
    },
    excludes: stringList(doc.excludes, 'excludes'),
    excludeFrom: optionalString(doc.exclude_from, 'exclude_from'),
    syncStrategy: parseStrategy(doc.sync_strategy),
  };
  validateManifest(manifest);
  return manifest;
}

/** stretcher's rules: a src needs a checksum and a dest. */
export function validateManifest(manifest: Manifest): void {
  if (manifest.src === '') return;
  if (manifest.checksum === '') throw invalid('checksum required', 'checksum');
  if (manifest.dest === '') throw invalid('dest required', 'dest');
}

function parseStrategy(value: unknown): SyncStrategy {
  if (value === undefined || value === null || value === '') return 'rsync';
  if (value === 'rsync' || value === 'mv') return value;
  throw invalid(
    `invalid strategy name: ${typeof value === 'string' ? value : JSON.stringify(value)}`,
    'sync_strategy',
  );
}

function parseMode(value: unknown): number {
  if (value === undefined || value === null || value === '') return DEFAULT_DEST_MODE;
  if (typeof value === 'number' && Number.isInteger(value) && value >= 0 && value <= 0o7777) return value;
  if (typeof value === 'string' && /^(0o?)?[0-7]{1,4}$/.test(value))
    return parseInt(value.replace(/^0o/, ''), 8);
  throw invalid(`dest_mode: expected an octal mode like 0755, got ${describeValue(value)}`, 'dest_mode');
}

function optionalString(value: unknown, where: string): string {
  if (value === undefined || value === null) return '';
  if (typeof value === 'string') return value;
  if (typeof value === 'number') return String(value);
  throw invalid(`${where}: expected a string, got ${describeValue(value)}`, where);
}

function optionalMapping(value: unknown, where: string): Record<string, unknown> {
  if (value === undefined || value === null) return {};
  if (typeof value === 'object' && !Array.isArray(value)) return value as Record<string, unknown>;
  throw invalid(`${where}: expected a mapping, got ${describeValue(value)}`, where);
}

function stringList(value: unknown, where: string): string[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) throw invalid(`${where}: expected a list, got ${describeValue(value)}`, where);
  return value.map((item, index) => {
    if (typeof item === 'string') return item;
    throw invalid(`${where}[${index}]: expected a string, got ${describeValue(item)}`, `${where}[${index}]`);
  });
}

function invalid(message: string, where: string, cause?: unknown): FerryError {
  return new FerryError('FERRY_E_MANIFEST_INVALID', message, { where }, { cause });
}
