import type { AppHost } from '../agent/app-host.js';
import path from 'node:path';
import { activateRelease, pruneReleases } from '../artifacts/index.js';
import type { AppConfig } from '../config/types.js';
import type { DeploymentState } from '../engine/types.js';
import { messageOf } from '../errors/ferry-error.js';
import type { Logger } from '../lib/logger.js';
import { deploymentHookVariables } from '../runtime/hook-variables.js';
import type { Store } from '../store/store.js';

interface FinishDeps {
  readonly store: Store;
  readonly host: AppHost;
  readonly logger: Logger;
}

/**
 * After a deployment ends. A succeeded one (already current in the store) gets the `current` symlink
 * (again: the after-switch phase set it already when the app has that hook) and prunes old releases
 * (never the current one nor the last good one). Then the success or failure hook gets the
 * deployment's event log on stdin. These hooks are notifications: their failures are recorded as
 * events and change nothing (a daemon killed in between skips them). after_switch is not one of them:
 * it runs inside the deployment (the engine's after-switch phase) and a failure rolls it back.
 */
export async function finishDeployment(state: DeploymentState, deps: FinishDeps): Promise<void> {
  const app = deps.host.app;
  if (state.status === 'succeeded') {
    await activateRelease(deps.host.releasesDir, state.to);
    await prune(state, app, deps);
    await notify(state, app, deps, 'success', app.hooks.success, state.to, await eventLog(state, deps));
  } else {
    const serving = (await deps.store.getCurrent(state.app, state.env)) ?? state.from ?? state.to;
    await notify(state, app, deps, 'failure', app.hooks.failure, serving, await eventLog(state, deps));
  }
}

async function prune(state: DeploymentState, app: AppConfig, deps: FinishDeps): Promise<void> {
  const releases = await deps.store.listReleases(state.app, state.env);
  const lastGood = releases
    .filter((r) => r.status === 'good' && r.version !== state.to)
    .sort((a, b) => (b.goodAt ?? 0) - (a.goodAt ?? 0))[0];
  const protect = [state.to, ...(lastGood ? [lastGood.version] : [])];
  const removed = await pruneReleases(deps.host.releasesDir, { keep: app.keepReleases, protect });
  if (removed.length > 0)
    deps.logger.info({ app: state.app, env: state.env, removed }, 'pruned old releases');
}

async function notify(
  state: DeploymentState,
  app: AppConfig,
  deps: FinishDeps,
  hook: string,
  lines: readonly string[],
  version: string,
  stdin?: string,
): Promise<void> {
  if (lines.length === 0) return;
  try {
    await deps.host.runHook({
      hook,
      lines,
      version,
      vars: deploymentHookVariables(state, version, path.join(deps.host.releasesDir, version)),
      ...(stdin !== undefined ? { stdin } : {}),
    });
  } catch (error) {
    await deps.store.appendEvent({
      deploymentId: state.id,
      at: Date.now(),
      type: 'hook',
      message: messageOf(error),
    });
  }
}

/** The deployment's events, one line each, as `ferry show` prints them. */
async function eventLog(state: DeploymentState, deps: FinishDeps): Promise<string> {
  const events = await deps.store.listEvents(state.id);
  const lines = events.map((e) => `${new Date(e.at).toISOString()} ${e.type} ${e.message}`);
  lines.push(`${state.kind} ${state.app} ${state.to} in ${state.env}: ${state.status}`);
  return `${lines.join('\n')}\n`;
}
