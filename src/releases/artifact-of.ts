import type { AppConfig, ConfigSource } from '../config/types.js';
import { sameOrigin } from '../lib/same-origin.js';
import type { ReleaseOnHost } from '../protocol/desired-state.js';
import type { CatalogEntry, ReleaseCatalog } from './release.js';

/** A release's own artifact as a host is told it: where, its checksum, and headers for that origin. */
export type HostArtifact = NonNullable<ReleaseOnHost['artifact']>;

/** Where a release of an app is fetched from when not from its `artifact.url` template; null: from it. */
export type ArtifactResolver = (app: string, version: string) => Promise<HostArtifact | null>;

/**
 * The artifact the catalog recorded with the release (a webhook's url, `ferry release add`, a
 * watcher's find). A watcher's find on its own origin is fetched with the watcher's credentials: a
 * private repository's release asset needs the GitHub token (and asks for the bytes, not the
 * asset's JSON), a private index's artifacts its headers. Resolved when a host is told, from the
 * configuration then in effect: the catalog never holds a secret.
 */
export function catalogArtifacts(
  catalog: Pick<ReleaseCatalog, 'get'>,
  config: ConfigSource,
): ArtifactResolver {
  return async (app, version) => {
    const entry = await catalog.get(app, version);
    if (entry?.artifact == null) return null;
    const { url, checksum } = entry.artifact;
    const apps = config.current.apps;
    const headers = Object.hasOwn(apps, app) ? sourceHeaders(apps[app]!, entry) : null;
    return { url, checksum, ...(headers !== null ? { headers } : {}) };
  };
}

function sourceHeaders(app: AppConfig, entry: CatalogEntry): Record<string, string> | null {
  const { actor } = entry.trigger;
  const url = entry.artifact!.url;
  const github = app.sources.github;
  if (github?.token && actor === `watcher:github:${github.repository}` && sameOrigin(url, github.baseUrl))
    return { authorization: `Bearer ${github.token.reveal()}`, accept: 'application/octet-stream' };
  const http = app.sources.http;
  if (http && http.headers.size > 0 && actor === `watcher:http:${app.name}` && sameOrigin(url, http.url))
    return Object.fromEntries(http.headers);
  return null;
}
