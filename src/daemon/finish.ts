import type { ConfigSource } from '../config/types.js';
import type { DeploymentState } from '../engine/types.js';
import { messageOf } from '../errors/ferry-error.js';
import type { Logger } from '../lib/logger.js';
import { withCurrent } from '../runtime/desired/edits.js';
import type { HostLink } from '../runtime/desired/host-link.js';
import { runHostTask } from '../runtime/desired/host-task.js';
import { deploymentVariables } from '../runtime/hook-variables.js';
import type { Store } from '../store/store.js';

interface FinishDeps {
  readonly store: Store;
  readonly link: HostLink;
  /** The host the deployment ran on. */
  readonly host: string;
  readonly config: ConfigSource;
  readonly logger: Logger;
}

/** What a host may take to say it is done with a finishing step, beyond the step's own limit. */
const ACK_MARGIN_MS = 30_000;

/**
 * After a deployment ends, through the host's desired state (the host does the work and says so in
 * its reports). A succeeded one (already current in the store) gets the `current` symlink (again:
 * the after-switch phase set it already when the app has that hook) and prunes old releases (never
 * the current one nor the last good one). Then the success or failure hook gets the deployment's
 * event log on stdin. These hooks are notifications: their failures are recorded as events and
 * change nothing (a daemon killed in between skips them). after_switch is not one of them: it runs
 * inside the deployment (the engine's after-switch phase) and a failure rolls it back.
 */
export async function finishDeployment(state: DeploymentState, deps: FinishDeps): Promise<void> {
  const apps = deps.config.current.apps;
  // An app that left the configuration has no hooks nor release count to keep any more.
  const app = Object.hasOwn(apps, state.app) ? apps[state.app] : undefined;
  const where = { host: deps.host, app: state.app, env: state.env };
  if (state.status === 'succeeded') {
    const revision = await deps.link.edit(deps.host, state.app, state.env, (doc) =>
      withCurrent(doc, state.to),
    );
    await deps.link.until(deps.host, state.app, state.env, {
      revision,
      what: `current -> ${state.to}`,
      timeoutMs: ACK_MARGIN_MS,
      accept: (r) => r.current === state.to,
    });
    if (app) await prune(state, app.keepReleases, deps);
    if (app) await notify(state, deps, 'success', app.hooks.success, state.to, app.hooks.timeoutMs);
  } else {
    const serving = (await deps.store.getCurrent(state.app, state.env)) ?? state.from ?? state.to;
    if (app) await notify(state, deps, 'failure', app.hooks.failure, serving, app.hooks.timeoutMs);
  }

  async function prune(final: DeploymentState, keep: number, finish: FinishDeps): Promise<void> {
    const releases = await finish.store.listReleases(final.app, final.env);
    const lastGood = releases
      .filter((r) => r.status === 'good' && r.version !== final.to)
      .sort((a, b) => (b.goodAt ?? 0) - (a.goodAt ?? 0))[0];
    const protect = [final.to, ...(lastGood ? [lastGood.version] : [])];
    await runHostTask(
      finish.link,
      where,
      { type: 'prune', keep, protect },
      { what: 'pruning old releases', timeoutMs: ACK_MARGIN_MS, idPrefix: `${final.id}.prune` },
    );
  }
}

async function notify(
  state: DeploymentState,
  deps: FinishDeps,
  hook: string,
  lines: readonly string[],
  version: string,
  timeoutMs: number,
): Promise<void> {
  if (lines.length === 0) return;
  try {
    await runHostTask(
      deps.link,
      { host: deps.host, app: state.app, env: state.env },
      {
        type: 'run-hook',
        hook,
        version,
        vars: deploymentVariables(state),
        stdin: await eventLog(state, deps),
      },
      {
        what: `the ${hook} hook`,
        timeoutMs: timeoutMs * lines.length + ACK_MARGIN_MS,
        idPrefix: `${state.id}.${hook}`,
      },
    );
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
