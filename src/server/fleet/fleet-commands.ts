import { FerryError } from '../../errors/ferry-error.js';
import type { RolloutCommand, RolloutState } from '../../rollout/index.js';
import type { RolloutRun } from '../rollouts/rollout-run.js';
import { findHost, hostUnknown } from '../trust/trust-operator.js';
import type { Trust } from '../trust/trust.js';
import type { HostCommand, HostDeployments } from './host-deployments.js';

/** What an operator can ask of a fleet rollout (`ferry pause`, `resume`, `abort`, `promote`). */
export type FleetCommand = RolloutCommand | 'promote';

/** An operator's command to an app's rollout in an environment, and who gives it. */
interface CommandAsk<C> {
  readonly app: string;
  readonly env: string;
  readonly command: C;
  readonly actor: string;
}

/**
 * An operator's command to an environment's rollout (see Fleet.command): the rollout's own first
 * (a resumed rollout holds no host back), then the hosts' own deployments under way; where only
 * theirs applies (a host canary paused by its analysis, resumed or promoted), that is enough.
 * With `host`, that host's deployment alone (steerOneHost).
 */
export async function commandRollout(
  run: RolloutRun,
  deployments: Pick<HostDeployments, 'steer'>,
  trust: Pick<Trust, 'listHosts'>,
  ask: CommandAsk<FleetCommand> & { readonly host: string | undefined },
): Promise<RolloutState> {
  const { app, env, command, actor, host } = ask;
  if (host !== undefined) {
    if (command === 'abort') throw abortIsFleetWide(app, env);
    await steerOneHost(trust, deployments, { app, env, command, actor, host });
    return (await run.read())!.state;
  }
  let state: RolloutState | null = null;
  let refusal: FerryError | null = null;
  if (command !== 'promote') {
    try {
      state = await run.command(command, actor);
    } catch (error) {
      if (command === 'abort' || !(error instanceof FerryError) || error.code !== 'FERRY_E_ILLEGAL_STATE')
        throw error;
      refusal = error;
    }
  }
  const steered = command === 'abort' ? [] : await deployments.steer(app, env, command, actor);
  if (state === null && steered.length === 0)
    throw (
      refusal ??
      new FerryError(
        'FERRY_E_ILLEGAL_STATE',
        `promote: no host of ${env} is in the canary steps of ${app}; a rollout moves batch by batch by itself (ferry pause ${app} --env ${env} holds it)`,
        { where: `${app}/${env}`, expected: 'a host deployment in its canary steps' },
      )
    );
  return state ?? (await run.read())!.state;
}

/**
 * `ferry pause|resume|promote APP --env E --host H`: the command to that host's own deployment
 * (its canary) alone, the rollout and the other hosts untouched. Refused when the host is not
 * enrolled (FERRY_E_HOST_UNKNOWN, naming the enrolled ones) or runs no canary of the app the
 * command applies to (FERRY_E_ILLEGAL_STATE).
 */
async function steerOneHost(
  trust: Pick<Trust, 'listHosts'>,
  deployments: Pick<HostDeployments, 'steer'>,
  ask: CommandAsk<HostCommand> & { readonly host: string },
): Promise<void> {
  const { app, env, command, actor } = ask;
  const hosts = await trust.listHosts();
  const host = findHost(hosts, ask.host);
  if (host === undefined) throw hostUnknown(ask.host, hosts);
  const steered = await deployments.steer(app, env, command, actor, host.id);
  if (steered.length > 0) return;
  const applies =
    command === 'pause'
      ? 'a canary step running'
      : command === 'resume'
        ? 'a paused canary'
        : 'a canary in its steps';
  throw new FerryError(
    'FERRY_E_ILLEGAL_STATE',
    `${command} --host ${host.name}: the host has no deployment of ${app} in ${env} with ${applies}`,
    { where: `${app}/${env}/${host.name}`, expected: applies },
  );
}

/** `abort` takes no host: it ends the rollout, and every host returns to last known good. */
function abortIsFleetWide(app: string, env: string): FerryError {
  return new FerryError(
    'FERRY_E_USAGE',
    `abort --host: abort ends the rollout across every host of ${env} (ferry abort ${app} --env ${env}); pause, resume and promote take a host`,
    { where: 'host', expected: 'pause, resume or promote' },
  );
}
