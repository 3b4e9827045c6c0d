import type { Command } from 'commander';
import type {
  JoinTokenCreateRequest,
  JoinTokenCreateResponse,
  JoinTokenRevokeResponse,
  JoinTokensResponse,
} from '../../api/types.js';
import { parseLabelWords } from '../../lib/labels.js';
import { clientOf } from '../context.js';
import { printJson } from '../json-output.js';
import { renderJoinTokenCreated, renderJoinTokenRevoked, renderJoinTokens } from '../render-join-tokens.js';

/** ferry join-token create: the token, shown this once, and the `ferry agent` line for a host. */
export async function createJoinToken(
  opts: { ttl: string; uses: number; label?: string[]; json?: boolean },
  command: Command,
): Promise<void> {
  // Checked before the daemon is asked: a bad label is a usage error that changes nothing.
  const labels = parseLabelWords(opts.label ?? [], '--label');
  const body: JoinTokenCreateRequest = { ttl: opts.ttl, uses: opts.uses, labels: { ...labels } };
  const client = await clientOf(command);
  const response = await client.post<JoinTokenCreateResponse>('/v1/join-tokens', body);
  if (opts.json) printJson(response);
  else process.stdout.write(`${renderJoinTokenCreated(response, Date.now())}\n`);
}

/** ferry join-token list: the join tokens, never their secret. */
export async function listJoinTokens(opts: { json?: boolean }, command: Command): Promise<void> {
  const client = await clientOf(command);
  const response = await client.get<JoinTokensResponse>('/v1/join-tokens');
  if (opts.json) printJson(response);
  else process.stdout.write(`${renderJoinTokens(response, Date.now())}\n`);
}

/** ferry join-token revoke ID. */
export async function revokeJoinToken(id: string, opts: { json?: boolean }, command: Command): Promise<void> {
  const client = await clientOf(command);
  const response = await client.request<JoinTokenRevokeResponse>(
    'POST',
    `/v1/join-tokens/${encodeURIComponent(id)}/revoke`,
  );
  if (opts.json) printJson(response);
  else process.stdout.write(`${renderJoinTokenRevoked(response)}\n`);
}
