import type { ReleaseArtifact, ReleaseCatalog } from './release.js';

/** Where a release of an app is fetched from when not from its `artifact.url` template; null: from it. */
export type ArtifactResolver = (app: string, version: string) => Promise<ReleaseArtifact | null>;

/** The artifact the catalog recorded with the release (a webhook's url, `ferry release add`). */
export function catalogArtifacts(catalog: Pick<ReleaseCatalog, 'get'>): ArtifactResolver {
  return async (app, version) => (await catalog.get(app, version))?.artifact ?? null;
}
