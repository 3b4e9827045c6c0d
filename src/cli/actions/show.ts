import type { Command } from 'commander';
import { FINAL_DEPLOYMENT_STATUSES, type DeploymentDetailResponse } from '../../api/types.js';
import { clientOf } from '../context.js';
import { printJson, printJsonLine } from '../json-output.js';
import { renderDeploymentLine, renderEvent, renderFailure } from '../render.js';
import { renderServedReport } from '../render-report.js';
import { describeTrigger } from '../render-trigger.js';
import { waitForDeployment } from '../wait.js';

export interface ShowOptions {
  json?: boolean;
  follow?: boolean;
}

/**
 * ferry show ID: one deployment with its failure evidence and event log. With --follow, one that
 * runs is followed as `--wait` does (its events so far, then each as it comes) until it ends, and
 * the exit code is its outcome (0 succeeded, 1 failed or rolled back).
 */
export async function show(id: string, opts: ShowOptions, command: Command): Promise<void> {
  const client = await clientOf(command);
  const detail = await client.get<DeploymentDetailResponse>(`/v1/deployments/${encodeURIComponent(id)}`);
  const { deployment } = detail;
  if (opts.follow && !FINAL_DEPLOYMENT_STATUSES.includes(deployment.status)) {
    if (opts.json) printJsonLine({ kind: 'started', deployment });
    else process.stdout.write(`${renderDeploymentLine(deployment)}\n`);
    process.exitCode = await waitForDeployment(client, deployment, process.stdout, {
      json: opts.json === true,
    });
    return;
  }
  if (opts.follow) process.exitCode = deployment.status === 'succeeded' ? 0 : 1;
  if (opts.json) return printJson(detail);
  const lines = [
    renderDeploymentLine(deployment),
    `  started by ${describeTrigger(deployment.trigger)}`,
    ...renderFailure(deployment),
    ...renderServedReport(deployment),
    '',
    'events:',
  ];
  for (const event of detail.events) lines.push(`  ${renderEvent(event)}`);
  process.stdout.write(`${lines.join('\n')}\n`);
}
