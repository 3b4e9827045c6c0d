import type { Command } from 'commander';
import type { HistoryResponse } from '../../api/types.js';
import { clientOf, envQuery } from '../context.js';
import { printJson } from '../json-output.js';
import { renderHistory } from '../render.js';

export interface HistoryOptions {
  env?: string;
  limit: number;
  json?: boolean;
}

/** ferry history APP: its deployments and its release ledger. */
export async function history(app: string, opts: HistoryOptions, command: Command): Promise<void> {
  const query = [envQuery(opts.env), `limit=${opts.limit}`].filter(Boolean).join('&');
  const client = await clientOf(command);
  const response = await client.get<HistoryResponse>(`/v1/apps/${encodeURIComponent(app)}/history?${query}`);
  if (opts.json) printJson(response);
  else process.stdout.write(`${renderHistory(response)}\n`);
}
