import type { Command } from 'commander';
import type { DeploymentDetailResponse } from '../../api/types.js';
import { clientOf } from '../context.js';
import { printJson } from '../json-output.js';
import { renderDeploymentLine, renderEvent, renderFailure } from '../render.js';
import { renderServedReport } from '../render-report.js';

/** ferry show ID: one deployment with its failure evidence and event log. */
export async function show(id: string, opts: { json?: boolean }, command: Command): Promise<void> {
  const client = await clientOf(command);
  const detail = await client.get<DeploymentDetailResponse>(`/v1/deployments/${encodeURIComponent(id)}`);
  if (opts.json) return printJson(detail);
  const lines = [
    renderDeploymentLine(detail.deployment),
    ...renderFailure(detail.deployment),
    ...renderServedReport(detail.deployment),
    '',
    'events:',
  ];
  for (const event of detail.events) lines.push(`  ${renderEvent(event)}`);
  process.stdout.write(`${lines.join('\n')}\n`);
}
