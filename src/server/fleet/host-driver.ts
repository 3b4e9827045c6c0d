import type { AppConfig } from '../../config/types.js';
import type { ArtifactResolver } from '../../releases/artifact-of.js';
import { steadyApp, withRelease } from '../../runtime/desired/edits.js';
import type { ExchangeHostLink } from '../../runtime/desired/exchange-link.js';

/**
 * How a fleet rollout tells one of Ferry's hosts which release to run: the app's part of the host's
 * desired state becomes that release, with the configured instances and all the traffic. The
 * host's agent gets there in the zero-downtime order by itself (the new instances healthy before
 * traffic moves, the old ones drained after): the host's blue-green. Null: the app leaves the host.
 * A release the catalog knows with an artifact of its own names it (`artifactOf`).
 */
export function hostDriver(
  link: Pick<ExchangeHostLink, 'edit' | 'remove'>,
  app: string,
  env: string,
  config: () => AppConfig | undefined,
  artifactOf: ArtifactResolver = () => Promise.resolve(null),
): { assign(target: string, version: string | null): Promise<void> } {
  return {
    async assign(target, version) {
      if (version === null) {
        await link.remove(target, app, env);
        return;
      }
      const settings = config()?.environments[env];
      // A release recorded with its own artifact (a webhook's url) is fetched from there.
      const artifact = await artifactOf(app, version);
      await link.edit(target, app, env, (doc) =>
        steadyApp(withRelease(doc, version, artifact), version, settings?.instances ?? 1),
      );
    },
  };
}
