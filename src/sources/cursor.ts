import type { KvStore } from '../store/kv/kv.js';
import type { ReleaseMark } from './found-release.js';

/** Versions remembered as offered, per source: enough to never offer one twice in a burst. */
const KEPT_OFFERED = 100;

/**
 * Where a source stands, kept in the store so a restart neither re-offers nor misses releases:
 * the validators of the last document read (a 304 then costs nothing), the newest release offered,
 * and the versions offered lately. `identity` (the repository or URL) resets it when the source changes.
 */
export interface SourceCursor {
  readonly identity: string;
  readonly etag: string | null;
  readonly lastModified: string | null;
  readonly newest: ReleaseMark | null;
  readonly offered: readonly string[];
}

export type SourceKind = 'github' | 'http';

/** The store key of an app's cursor for one kind of source. */
export function cursorKey(app: string, kind: SourceKind): string {
  return `/sources/${app}/${kind}`;
}

/** The kept cursor, or a fresh one when none is kept, it is unreadable or it was another source's. */
export async function readCursor(
  kv: KvStore,
  app: string,
  kind: SourceKind,
  identity: string,
): Promise<SourceCursor> {
  const fresh: SourceCursor = { identity, etag: null, lastModified: null, newest: null, offered: [] };
  const entry = await kv.get(cursorKey(app, kind));
  if (entry === undefined) return fresh;
  let kept: Partial<SourceCursor>;
  try {
    kept = JSON.parse(entry.value) as Partial<SourceCursor>;
  } catch {
    return fresh;
  }
  if (kept.identity !== identity) return fresh;
  return {
    identity,
    etag: typeof kept.etag === 'string' ? kept.etag : null,
    lastModified: typeof kept.lastModified === 'string' ? kept.lastModified : null,
    newest:
      kept.newest !== null && typeof kept.newest === 'object' && typeof kept.newest.version === 'string'
        ? { version: kept.newest.version, publishedAt: kept.newest.publishedAt ?? null }
        : null,
    offered: Array.isArray(kept.offered) ? kept.offered.filter((v) => typeof v === 'string') : [],
  };
}

export async function writeCursor(
  kv: KvStore,
  app: string,
  kind: SourceKind,
  cursor: SourceCursor,
): Promise<void> {
  const kept: SourceCursor = { ...cursor, offered: cursor.offered.slice(-KEPT_OFFERED) };
  await kv.put(cursorKey(app, kind), JSON.stringify(kept));
}
