import { FerryError } from '../errors/ferry-error.js';
import { redactUrl } from '../lib/redact.js';
import type { KvStore } from '../store/kv/kv.js';
import type { CatalogEntry, ReleaseArtifact, ReleaseCandidate, ReleaseCatalog } from './release.js';

/** Where the catalog keeps its entries: `/releases/<app>/<version>` (JSON CatalogEntry). */
export const CATALOG_PREFIX = '/releases/';
/** What list() answers at most, whatever it is asked. */
export const CATALOG_LIST_MAX = 500;
/** The entries list() reads at most to sort them (keys are in version order, not time order). */
const LIST_READ_MAX = 10_000;
/** Writes lost to a concurrent writer are tried again this many times before giving up. */
const RECORD_ATTEMPTS = 5;

function keyOf(app: string, version: string): string {
  // App names and versions are validated (no `/`); encoding keeps a key one path segment each regardless.
  return `${CATALOG_PREFIX}${encodeURIComponent(app)}/${encodeURIComponent(version)}`;
}

/**
 * The releases Ferry knows of, on the control plane's KV store (SQLite or etcd), so every server of
 * a fleet sees one catalog. A version is recorded once per app: offering it again with the same
 * artifact and checksum is harmless, with another one is refused (releases are immutable).
 */
export class KvReleaseCatalog implements ReleaseCatalog {
  constructor(private readonly kv: KvStore) {}

  async get(app: string, version: string): Promise<CatalogEntry | undefined> {
    const entry = await this.kv.get(keyOf(app, version));
    return entry === undefined ? undefined : (JSON.parse(entry.value) as CatalogEntry);
  }

  async list(app: string, opts: { readonly limit?: number } = {}): Promise<readonly CatalogEntry[]> {
    const limit = Math.max(1, Math.min(opts.limit ?? CATALOG_LIST_MAX, CATALOG_LIST_MAX));
    const { entries } = await this.kv.range(`${CATALOG_PREFIX}${encodeURIComponent(app)}/`, {
      limit: LIST_READ_MAX,
    });
    return entries
      .map((e) => JSON.parse(e.value) as CatalogEntry)
      .sort((a, b) => sortTime(b) - sortTime(a) || (a.version < b.version ? 1 : -1))
      .slice(0, limit);
  }

  /**
   * Records the candidate (when first seen at `now`) and answers the entry the catalog keeps: the
   * earlier one when the version was recorded before with the same artifact. A compare on the key's
   * absence makes two concurrent offers of one version write once.
   */
  async record(candidate: ReleaseCandidate, now: number): Promise<{ entry: CatalogEntry; created: boolean }> {
    const key = keyOf(candidate.app, candidate.version);
    for (let attempt = 0; attempt < RECORD_ATTEMPTS; attempt++) {
      const existing = await this.kv.get(key);
      if (existing !== undefined) {
        const entry = JSON.parse(existing.value) as CatalogEntry;
        assertSameArtifact(candidate, entry);
        return { entry, created: false };
      }
      const { env: _env, ...rest } = candidate;
      const entry: CatalogEntry = { ...rest, recordedAt: now };
      const { succeeded } = await this.kv.txn({
        compare: [{ key, modRevision: 0 }],
        success: [{ type: 'put', key, value: JSON.stringify(entry) }],
      });
      if (succeeded) return { entry, created: true };
    }
    throw new FerryError(
      'FERRY_E_INTERNAL',
      `the release catalog could not record ${candidate.app} ${candidate.version}: written concurrently too often`,
    );
  }
}

function sortTime(entry: CatalogEntry): number {
  return entry.publishedAt ?? entry.recordedAt;
}

function describeArtifact(artifact: ReleaseArtifact | null): string {
  if (artifact === null) return "the app's artifact.url";
  return `${redactUrl(artifact.url)} (checksum ${artifact.checksum ?? 'none'})`;
}

function assertSameArtifact(candidate: ReleaseCandidate, entry: CatalogEntry): void {
  const a = candidate.artifact;
  const b = entry.artifact;
  const same =
    a === null || b === null
      ? a === b
      : a.url === b.url && (a.checksum ?? '').toLowerCase() === (b.checksum ?? '').toLowerCase();
  if (same) return;
  const expected = describeArtifact(b);
  const got = describeArtifact(a);
  throw new FerryError(
    'FERRY_E_RELEASE_CONFLICT',
    `release ${candidate.version} of ${candidate.app} is already recorded with another artifact and releases are immutable: expected ${expected}, got ${got}`,
    { where: `${candidate.app}/${candidate.version}`, expected, got },
  );
}
