import type { Command } from 'commander';
import type { HostsResponse } from '../../api/types.js';
import { clientOf } from '../context.js';
import { printJson } from '../json-output.js';
import { renderHosts } from '../render-hosts.js';

/** ferry hosts: the hosts and their agents. */
export async function hosts(opts: { json?: boolean }, command: Command): Promise<void> {
  const client = await clientOf(command);
  const response = await client.get<HostsResponse>('/v1/hosts');
  if (opts.json) printJson(response);
  else process.stdout.write(`${renderHosts(response, Date.now())}\n`);
}
