import type {
  CatalogEntryView,
  CatalogRelease,
  ReleaseAddBody,
  ReleaseAddResponse,
  ReleasesResponse,
} from '../api/types.js';
import { assertEnvironment, resolveAppEnv } from '../config/resolve.js';
import type { ConfigSource } from '../config/types.js';
import { FerryError } from '../errors/ferry-error.js';
import { redactUrl } from '../lib/redact.js';
import type { ReleasesControl } from '../releases/recorder.js';
import type { CatalogEntry, ReleaseCandidate } from '../releases/release.js';
import { triggerOf } from '../releases/trigger.js';
import type { Store } from '../store/store.js';

/** What the release routes need of the daemon. */
export interface ReleaseRoutesDeps {
  readonly config: ConfigSource;
  readonly store: Store;
  readonly releases: ReleasesControl;
}

/**
 * POST /v1/apps/:app/releases: a release given by hand, offered to the intake as the user's (or,
 * with `deploy: false`, recorded only). The body's fields are checked by its schema; here what needs
 * the configuration: the app, the environment, a checksum without a URL.
 */
export async function addRelease(
  deps: ReleaseRoutesDeps,
  app: string,
  body: ReleaseAddBody,
  actor: string,
): Promise<ReleaseAddResponse> {
  const config = deps.config.current;
  resolveAppEnv(config, app, body.env);
  if (body.env !== undefined) assertAppEnvironment(deps, app, body.env);
  if (body.checksum !== undefined && body.url === undefined)
    throw new FerryError(
      'FERRY_E_USAGE',
      `invalid request: body.checksum: goes with body.url (the app's artifact settings say how releases without a url are verified), got a checksum alone`,
      { where: 'body.checksum', expected: 'url with checksum', got: 'checksum alone' },
    );
  const candidate: ReleaseCandidate = {
    app,
    version: body.version,
    artifact:
      body.url === undefined
        ? null
        : { url: body.url.replaceAll('{version}', body.version), checksum: body.checksum ?? null },
    changelog: body.changelog ?? null,
    publishedAt: null,
    env: body.env ?? null,
    trigger: triggerOf(actor),
  };
  if (!body.deploy) return { release: toCatalogView(await deps.releases.record(candidate)), outcomes: [] };
  const outcomes = await deps.releases.intake.offer(candidate);
  const recorded = await deps.releases.catalog.get(app, body.version);
  if (recorded === undefined)
    throw new FerryError('FERRY_E_INTERNAL', `the intake took ${app} ${body.version} but did not record it`);
  return { release: toCatalogView(recorded), outcomes: [...outcomes] };
}

/** GET /v1/apps/:app/releases: the catalog, each release with its ledger status in each environment. */
export async function listReleases(
  deps: ReleaseRoutesDeps,
  app: string,
  limit: number,
): Promise<ReleasesResponse> {
  resolveAppEnv(deps.config.current, app, undefined);
  const envs = appEnvironments(deps, app);
  const current = new Map<string, string | undefined>();
  for (const env of envs) current.set(env, await deps.store.getCurrent(app, env));
  const entries = await deps.releases.catalog.list(app, { limit });
  const releases: CatalogRelease[] = [];
  for (const entry of entries) {
    const environments = [];
    for (const env of envs) {
      const ledger = await deps.store.getRelease(app, env, entry.version);
      environments.push({ env, status: ledger?.status ?? null, current: current.get(env) === entry.version });
    }
    releases.push({ ...toCatalogView(entry), environments });
  }
  return { releases };
}

/** A catalog entry as the API answers it: its artifact URL without credentials. */
function toCatalogView(entry: CatalogEntry): CatalogEntryView {
  return {
    app: entry.app,
    version: entry.version,
    artifact: entry.artifact && { url: redactUrl(entry.artifact.url), checksum: entry.artifact.checksum },
    changelog: entry.changelog,
    publishedAt: entry.publishedAt,
    recordedAt: entry.recordedAt,
    trigger: entry.trigger,
  };
}

/** The environments the app runs in, in the configuration's order. */
function appEnvironments(deps: ReleaseRoutesDeps, app: string): string[] {
  const config = deps.config.current;
  const own = config.apps[app]!.environments;
  return config.environments.filter((env) => Object.hasOwn(own, env));
}

function assertAppEnvironment(deps: ReleaseRoutesDeps, app: string, env: string): void {
  assertEnvironment(deps.config.current, env);
  if (!appEnvironments(deps, app).includes(env))
    throw new FerryError('FERRY_E_ENV_UNKNOWN', `${app} does not run in environment "${env}"`, {
      got: env,
      known: appEnvironments(deps, app),
    });
}
