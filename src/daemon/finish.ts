import path from 'node:path';
import type { AppHost } from '../agent/app-host.js';
import { runHook } from '../agent/hooks.js';
import { activateRelease, pruneReleases } from '../artifacts/index.js';
import type { FerryConfig } from '../config/types.js';
import type { DeploymentState } from '../engine/types.js';
import { messageOf } from '../errors/ferry-error.js';
import type { Logger } from '../lib/logger.js';
import type { Store } from '../store/store.js';

/**
 * After a deployment ends: a succeeded one (already current in the store) gets the `current` symlink,
 * runs the after_switch hook, and prunes old releases (never the current one nor the last good one).
 */
export async function finishDeployment(
  state: DeploymentState,
  deps: { config: FerryConfig; store: Store; host: AppHost; logger: Logger },
): Promise<void> {
  if (state.status !== 'succeeded') return;
  const { store, host, config } = deps;
  const app = config.apps[state.app]!;
  await activateRelease(host.releasesDir, state.to);
  const releases = await store.listReleases(state.app, state.env);
  const lastGood = releases
    .filter((r) => r.status === 'good' && r.version !== state.to)
    .sort((a, b) => (b.goodAt ?? 0) - (a.goodAt ?? 0))[0];
  const protect = [state.to, ...(lastGood ? [lastGood.version] : [])];
  const removed = await pruneReleases(host.releasesDir, { keep: app.keepReleases, protect });
  if (removed.length > 0)
    deps.logger.info({ app: state.app, env: state.env, removed }, 'pruned old releases');
  if (app.hooks.afterSwitch.length === 0) return;
  const releaseDir = path.join(host.releasesDir, state.to);
  try {
    await runHook(
      'after_switch',
      app.hooks.afterSwitch,
      { app: state.app, env: state.env, version: state.to, releaseDir },
      app.hooks.timeoutMs,
    );
  } catch (error) {
    await store.appendEvent({
      deploymentId: state.id,
      at: Date.now(),
      type: 'hook',
      message: messageOf(error),
    });
  }
}
