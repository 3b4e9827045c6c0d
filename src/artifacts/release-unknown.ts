import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { FerryError, isFerryError } from '../errors/ferry-error.js';
import { redactUrl } from '../lib/redact.js';
import { isValidVersion } from '../lib/release-version.js';
import { isMissing } from './sources/index.js';
import type { ArtifactSource } from './types.js';

/** How many versions an error lists at most (the newest). */
export const LISTED_VERSIONS = 20;
// Directory entries looked at when listing versions: a huge directory costs no more than this.
const MAX_CANDIDATES = 10_000;

export interface ReleaseLookup {
  readonly app: string;
  readonly env: string;
  readonly version: string;
  /** The configured URLs, with `{version}` in them. */
  readonly templates: { readonly url: string; readonly checksumsUrl: string | null };
  /** The same with the version filled in: what was asked for. */
  readonly source: ArtifactSource;
}

/**
 * An install's failure in the words of the deployment: when the source says the artifact (or its
 * checksums file) does not exist and its URL is made from the version, or the checksums file has
 * no line for an artifact made from the version (and, on this host, no such file exists either),
 * no release of that version exists: FERRY_E_RELEASE_UNKNOWN, naming where it was looked for
 * (redacted) and, for a file:// source, the versions found there. Any other failure is returned
 * as it is.
 */
export async function explainMissingRelease(error: unknown, lookup: ReleaseLookup): Promise<unknown> {
  const asked = await whatWasMissing(error, lookup);
  if (asked === null || !(error instanceof FerryError)) return error;
  const where = redactUrl(asked.filled);
  const listing = asked.template.startsWith('file:') ? await listFileVersions(asked.template) : null;
  const { app, env, version } = lookup;
  let found = '';
  if (listing !== null) {
    const more = listing.total - listing.versions.length;
    found =
      listing.total === 0
        ? `; no versions found in ${listing.dir}`
        : `; versions found in ${listing.dir}: ${listing.versions.join(', ')}${more > 0 ? ` (and ${more} older)` : ''}`;
  }
  return new FerryError(
    'FERRY_E_RELEASE_UNKNOWN',
    `no release ${JSON.stringify(version)} of ${app}: ${error.message}${found}`,
    {
      app,
      env,
      version,
      where,
      expected: 'a version that exists at the artifact source',
      got: version,
      ...(listing !== null ? { found: listing.versions, foundTotal: listing.total } : {}),
    },
    { cause: error },
  );
}

/** The URL (template and filled) that the error says is missing, when made from the version. */
async function whatWasMissing(
  error: unknown,
  lookup: ReleaseLookup,
): Promise<{ template: string; filled: string } | null> {
  const artifact = { template: lookup.templates.url, filled: lookup.source.url };
  if (isMissing(error)) {
    const sums = lookup.templates.checksumsUrl;
    const filledSums = lookup.source.checksumsUrl ?? null;
    const asked = [
      artifact,
      ...(sums !== null && filledSums !== null ? [{ template: sums, filled: filledSums }] : []),
    ];
    const found = asked.find((url) => redactUrl(url.filled) === error.details.where);
    return found?.template.includes('{version}') === true ? found : null;
  }
  const unlisted = isFerryError(error, 'FERRY_E_CHECKSUM_INVALID') && error.details.unlisted === true;
  if (!unlisted || !artifact.template.includes('{version}')) return null;
  // An artifact on this host that its checksums file does not list is a checksum problem.
  if (artifact.filled.startsWith('file:') && (await fileUrlExists(artifact.filled))) return null;
  return artifact;
}

/**
 * The versions a file:// URL template finds on disk: the directory above the path component that
 * holds `{version}` is listed, and each entry matching that component (and, below it, the rest of
 * the path) is a version. The newest `limit`, in natural order (1.9.0 before 1.10.0), and the count.
 * Null when the directory cannot be read.
 */
export async function listFileVersions(
  template: string,
  limit = LISTED_VERSIONS,
): Promise<{ dir: string; versions: string[]; total: number } | null> {
  let filePath: string;
  try {
    filePath = fileURLToPath(template.replaceAll('{version}', '%7Bversion%7D'));
  } catch {
    return null;
  }
  const parts = filePath.split(path.sep);
  const at = parts.findIndex((part) => part.includes('{version}'));
  if (at < 1) return null;
  const dir = parts.slice(0, at).join(path.sep) || path.sep;
  const rest = parts.slice(at + 1);
  const pattern = componentPattern(parts[at] ?? '');
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return null;
  }
  const versions: string[] = [];
  for (const name of names.slice(0, MAX_CANDIDATES)) {
    const version = pattern.exec(name)?.[1];
    if (version === undefined || !isValidVersion(version)) continue;
    if (rest.length > 0 && !(await exists(path.join(dir, name, ...fill(rest, version))))) continue;
    versions.push(version);
  }
  versions.sort((a, b) => a.localeCompare(b, 'en', { numeric: true }));
  return { dir, versions: versions.slice(-limit), total: versions.length };
}

/** `hello-{version}.tar.gz` -> /^hello-(.+)\.tar\.gz$/ (a second {version} must be the same). */
function componentPattern(component: string): RegExp {
  const [first = '', ...others] = component.split('{version}').map(escapeRegExp);
  return new RegExp(`^${first}${others.map((text, n) => `${n === 0 ? '(.+)' : '\\1'}${text}`).join('')}$`);
}

function fill(parts: string[], version: string): string[] {
  return parts.map((part) => part.replaceAll('{version}', version));
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

async function fileUrlExists(url: string): Promise<boolean> {
  try {
    return await exists(fileURLToPath(url));
  } catch {
    return false;
  }
}

async function exists(file: string): Promise<boolean> {
  return stat(file).then(
    () => true,
    () => false,
  );
}
