import type { Deployment, DeploymentStreamMessage } from '../api/types.js';
import { FINAL_DEPLOYMENT_STATUSES } from '../api/types.js';
import { setTimeout as sleep } from 'node:timers/promises';
import { isFerryError } from '../errors/ferry-error.js';
import type { ApiClient } from './client.js';
import { printJsonLine } from './json-output.js';
import { renderEvent, renderFailure } from './render.js';

/** How long --wait keeps trying to reach a daemon that went away (it may be restarting). */
const RECONNECT_MS = 60_000;

/**
 * Follows a deployment until it is final: a live progress line on a terminal, plain lines
 * otherwise; with json, one JSON object per event as it arrives, then the result (NDJSON). Returns
 * the exit code: 0 when it succeeded, 1 when it failed, rolled back or aborted.
 */
export async function waitForDeployment(
  client: ApiClient,
  deployment: Deployment,
  out: NodeJS.WriteStream = process.stdout,
  { json = false }: { json?: boolean } = {},
): Promise<number> {
  const live = out.isTTY === true && !json;
  let last = deployment;
  let progressShown = false;
  const clearProgress = () => {
    if (live && progressShown) out.write('\r\x1b[2K');
    progressShown = false;
  };
  const showProgress = (d: Deployment) => {
    if (!live) return;
    clearProgress();
    out.write(`  ${d.status}: ${d.progress}${stepClock(d)} (${seconds(Date.now() - d.createdAt)} in all)`);
    progressShown = true;
  };
  // On a terminal the progress line ticks, so a long canary pause visibly counts down.
  const ticker = live ? setInterval(() => showProgress(last), 250) : undefined;
  const isFinal = () => FINAL_DEPLOYMENT_STATUSES.includes(last.status);
  const reconnectBy = () => Date.now() + RECONNECT_MS;
  let giveUpAt = reconnectBy();
  // After a reconnect the stream starts from the first event again: each is printed once.
  let printedSeq = 0;
  try {
    while (!isFinal()) {
      try {
        for await (const message of client.stream<DeploymentStreamMessage>(
          `/v1/deployments/${deployment.id}/events`,
        )) {
          giveUpAt = reconnectBy();
          if (message.kind === 'event') {
            if (message.event.seq <= printedSeq) continue;
            printedSeq = message.event.seq;
          }
          if (message.kind === 'event' && json) {
            printJsonLine({ kind: 'event', event: message.event }, out);
          } else if (message.kind === 'event') {
            // Phase changes are for programs; the records say the same in words.
            if (message.event.type === 'phase') continue;
            clearProgress();
            out.write(`${renderEvent(message.event)}\n`);
            showProgress(last);
          } else {
            last = message.deployment;
            showProgress(last);
            if (isFinal()) break;
          }
        }
        if (!isFinal())
          last = (await client.get<{ deployment: Deployment }>(`/v1/deployments/${deployment.id}`))
            .deployment;
      } catch (error) {
        // The daemon restarted (or was killed and is coming back): it resumes the deployment, so wait for it.
        const restarting =
          isFerryError(error, 'FERRY_E_DAEMON_UNREACHABLE') || isFerryError(error, 'FERRY_E_DAEMON_STARTING');
        if (!restarting || Date.now() > giveUpAt) throw error;
        await sleep(250);
      }
    }
  } finally {
    if (ticker) clearInterval(ticker);
    clearProgress();
  }
  const succeeded = last.status === 'succeeded';
  if (json) {
    printJsonLine({ kind: 'result', succeeded, deployment: last }, out);
  } else {
    out.write(`deployment ${last.id} ${last.status}: ${last.from ?? 'nothing'} -> ${last.to}\n`);
    for (const line of renderFailure(last)) out.write(`${line}\n`);
  }
  return succeeded ? 0 : 1;
}

function seconds(ms: number): string {
  return `${(Math.max(0, ms) / 1000).toFixed(1)}s`;
}

/**
 * In a canary step: how far into its pause, e.g. " 3.2s/10.0s", then into its wait for enough
 * requests, e.g. " 10.0s + 4.1s/300.0s".
 */
function stepClock(d: Deployment): string {
  if (d.phase !== 'shifting' || d.strategy.kind !== 'canary') return '';
  const pause = d.strategy.steps[d.step]?.pauseMs ?? 0;
  const elapsed = d.status === 'paused' ? pause - (d.pausedRemainingMs ?? 0) : Date.now() - d.phaseSince;
  if (d.waitingForTraffic && d.status === 'running') {
    const maxWait = d.strategy.analysis.maxWaitMs;
    return ` ${seconds(pause)} + ${seconds(Math.min(elapsed - pause, maxWait))}/${seconds(maxWait)}`;
  }
  return ` ${seconds(Math.min(elapsed, pause))}/${seconds(pause)}`;
}
