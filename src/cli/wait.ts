import type { Deployment, DeploymentStreamMessage } from '../api/types.js';
import { FINAL_DEPLOYMENT_STATUSES } from '../api/types.js';
import type { ApiClient } from './client.js';
import { INTERRUPTED_EXIT_CODE, onInterrupt } from './interrupt.js';
import { printJsonLine } from './json-output.js';
import { Reconnector } from './reconnect.js';
import { renderEvent, renderFailure } from './render.js';

export interface WaitOptions {
  /** One JSON object per event, then the result (NDJSON). */
  readonly json?: boolean;
  /** The reconnects after the daemon went away (a default one unless given; tests give a clock). */
  readonly reconnector?: Reconnector;
}

/**
 * Follows a deployment until it is final, from its first event: a live progress line on a
 * terminal, plain lines otherwise; with json, one JSON object per event as it arrives, then the
 * result (NDJSON). Returns the exit code: 0 when it succeeded, 1 when it failed, rolled back or
 * aborted, 130 when Ctrl-C stopped the waiting (the deployment goes on; stderr says how to follow
 * it again).
 *
 * A stream lost because the daemon restarted is opened again (see Reconnector) with Last-Event-ID:
 * the daemon resumes after the last event printed (a deployment's events are kept in its store,
 * so nothing is lost in between), and each event is printed once.
 */
export async function waitForDeployment(
  client: ApiClient,
  deployment: Deployment,
  out: NodeJS.WriteStream = process.stdout,
  { json = false, reconnector = new Reconnector() }: WaitOptions = {},
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
  const interrupt = onInterrupt();
  const { signal } = interrupt;
  const path = `/v1/deployments/${encodeURIComponent(deployment.id)}/events`;
  let printedSeq = 0;
  try {
    while (!isFinal() && !signal.aborted) {
      try {
        const lastEventId = printedSeq > 0 ? String(printedSeq) : undefined;
        for await (const { data: message } of client.messages<DeploymentStreamMessage>(path, {
          signal,
          ...(lastEventId !== undefined ? { lastEventId } : {}),
        })) {
          reconnector.connected();
          if (message.kind === 'event') {
            // The daemon resumes after Last-Event-ID; this guards against one that does not.
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
        if (!isFinal() && !signal.aborted)
          last = (
            await client.get<{ deployment: Deployment }>(
              `/v1/deployments/${encodeURIComponent(deployment.id)}`,
            )
          ).deployment;
      } catch (error) {
        if (signal.aborted) break;
        // The daemon restarted (or was killed and is coming back): it resumes the deployment, so wait for it.
        await reconnector.retry(error, signal).catch((retryError: unknown) => {
          if (!signal.aborted) throw retryError;
        });
      }
    }
  } finally {
    interrupt.dispose();
    if (ticker) clearInterval(ticker);
    clearProgress();
  }
  if (signal.aborted && !isFinal()) {
    process.stderr.write(
      `ferry: stopped waiting; deployment ${last.id} of ${last.app} goes on (${last.status}: ${last.progress})\n` +
        `  follow it again with: ${followCommand(client, last.id)}\n`,
    );
    return INTERRUPTED_EXIT_CODE;
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

/** The command that follows the deployment again, asking the same daemon as this one did. */
export function followCommand(client: ApiClient, id: string): string {
  return `ferry show ${id} --follow${client.flags}`;
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
