import type { Command } from 'commander';
import type { StatusResponse } from '../../api/types.js';
import { clientOf, envQuery } from '../context.js';
import { printJson } from '../json-output.js';
import { renderStatus } from '../render.js';

export interface StatusOptions {
  env?: string;
  json?: boolean;
}

/** ferry status [APP]: what runs, from the daemon's status. */
export async function status(app: string | undefined, opts: StatusOptions, command: Command): Promise<void> {
  const params = [app ? `app=${encodeURIComponent(app)}` : '', envQuery(opts.env)].filter(Boolean).join('&');
  const client = await clientOf(command);
  const response = await client.get<StatusResponse>(`/v1/status${params ? `?${params}` : ''}`);
  if (opts.json) printJson(response);
  else process.stdout.write(`${renderStatus(response)}\n`);
}
