import type { Command } from 'commander';
import type { HostRevokeResponse, HostsResponse } from '../../api/types.js';
import { clientOf } from '../context.js';
import { printJson } from '../json-output.js';
import { renderHostRevoked, renderHosts } from '../render-hosts.js';

/** ferry hosts: the hosts and their agents. */
export async function hosts(opts: { json?: boolean }, command: Command): Promise<void> {
  const client = await clientOf(command);
  const response = await client.get<HostsResponse>('/v1/hosts');
  if (opts.json) printJson(response);
  else process.stdout.write(`${renderHosts(response, Date.now())}\n`);
}

/** ferry hosts revoke HOST: by its id or its name. */
export async function revokeHost(host: string, _opts: unknown, command: Command): Promise<void> {
  // `hosts` takes --json too, and takes it wherever it is on the line: read it from both.
  const { json } = command.optsWithGlobals<{ json?: boolean }>();
  const client = await clientOf(command);
  const response = await client.request<HostRevokeResponse>(
    'POST',
    `/v1/hosts/${encodeURIComponent(host)}/revoke`,
  );
  if (json) printJson(response);
  else process.stdout.write(`${renderHostRevoked(response)}\n`);
}
