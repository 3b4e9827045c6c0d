import type { Deployment, DeploymentStreamMessage } from '../api/types.js';
import { FINAL_DEPLOYMENT_STATUSES } from '../api/types.js';
import type { ApiClient } from './client.js';
import { renderEvent, renderFailure } from './render.js';

/**
 * Follows a deployment until it is final: a live progress line on a terminal, plain lines
 * otherwise. Returns the exit code: 0 when it succeeded, 1 when it failed, rolled back or aborted.
 */
export async function waitForDeployment(
  client: ApiClient,
  deployment: Deployment,
  out: NodeJS.WriteStream = process.stdout,
): Promise<number> {
  const live = out.isTTY === true;
  let last = deployment;
  let progressShown = false;
  const clearProgress = () => {
    if (live && progressShown) out.write('\r\x1b[2K');
    progressShown = false;
  };
  const showProgress = (d: Deployment) => {
    if (!live) return;
    clearProgress();
    out.write(`  ${d.status}: ${d.progress} (${Math.round((Date.now() - d.createdAt) / 100) / 10}s)`);
    progressShown = true;
  };
  for await (const message of client.stream<DeploymentStreamMessage>(
    `/v1/deployments/${deployment.id}/events`,
  )) {
    if (message.kind === 'event') {
      // Phase changes are for programs; the records say the same in words.
      if (message.event.type === 'phase') continue;
      clearProgress();
      out.write(`${renderEvent(message.event)}\n`);
      showProgress(last);
    } else {
      last = message.deployment;
      showProgress(last);
      if (FINAL_DEPLOYMENT_STATUSES.includes(last.status)) break;
    }
  }
  clearProgress();
  if (!FINAL_DEPLOYMENT_STATUSES.includes(last.status)) {
    // The stream ended early (daemon restart): the outcome is whatever the daemon says now.
    last = (await client.get<{ deployment: Deployment }>(`/v1/deployments/${deployment.id}`)).deployment;
    if (!FINAL_DEPLOYMENT_STATUSES.includes(last.status)) return waitForDeployment(client, last, out);
  }
  out.write(`deployment ${last.id} ${last.status}: ${last.from ?? 'nothing'} -> ${last.to}\n`);
  for (const line of renderFailure(last)) out.write(`${line}\n`);
  return last.status === 'succeeded' ? 0 : 1;
}
