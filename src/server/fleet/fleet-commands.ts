import { FerryError } from '../../errors/ferry-error.js';
import { findHost, hostUnknown } from '../trust/trust-operator.js';
import type { Trust } from '../trust/trust.js';
import type { HostCommand, HostDeployments } from './host-deployments.js';

/**
 * `ferry pause|resume|promote APP --env E --host H`: the command to that host's own deployment
 * (its canary) alone, the rollout and the other hosts untouched. Refused when the host is not
 * enrolled (FERRY_E_HOST_UNKNOWN, naming the enrolled ones) or runs no canary of the app the
 * command applies to (FERRY_E_ILLEGAL_STATE).
 */
export async function steerOneHost(
  trust: Pick<Trust, 'listHosts'>,
  deployments: Pick<HostDeployments, 'steer'>,
  ask: {
    readonly app: string;
    readonly env: string;
    readonly command: HostCommand;
    readonly actor: string;
    readonly host: string;
  },
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
export function abortIsFleetWide(app: string, env: string): FerryError {
  return new FerryError(
    'FERRY_E_USAGE',
    `abort --host: abort ends the rollout across every host of ${env} (ferry abort ${app} --env ${env}); pause, resume and promote take a host`,
    { where: 'host', expected: 'pause, resume or promote' },
  );
}
