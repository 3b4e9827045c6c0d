import type {
  JoinTokenCreateResponse,
  JoinTokenRevokeResponse,
  JoinTokensResponse,
  JoinTokenView,
} from '../api/types.js';
import { formatDateTime, formatUptime } from './format.js';

/** The port agents reach a server on unless its operator chose another (docs/trust.md). */
const AGENTS_PORT = 7443;

/**
 * `ferry join-token create`: the token, said to be shown only this once, and the `ferry agent` line
 * to run on each host: complete when the daemon says where agents reach it, else with the server's
 * address and CA fingerprint left for the operator to fill in.
 */
export function renderJoinTokenCreated(response: JoinTokenCreateResponse, now: number): string {
  const { token, joinToken, agents } = response;
  const hosts = `${joinToken.uses} host${joinToken.uses === 1 ? '' : 's'}`;
  const lines = [
    `join token ${joinToken.id}: enrolls ${hosts} until ${formatDateTime(joinToken.expiresAt)} (in ${formatUptime(joinToken.expiresAt - now)}), labels ${labelsText(joinToken)}`,
    '',
    `  ${token}`,
    '',
    'It is shown only this once (Ferry keeps its hash). On each host to enroll, run:',
    '',
  ];
  if (agents !== null) {
    lines.push(
      `  ferry agent --server ${agents.url} --ca-fingerprint ${agents.caFingerprint} --token ${token}`,
    );
  } else {
    lines.push(
      `  ferry agent --server https://<this server>:${AGENTS_PORT} --token ${token}`,
      '',
      'This daemon does not say where agents reach it: in --server put the name agents reach the',
      'server by, and add --ca-fingerprint with the fingerprint `ferry server` printed (docs/trust.md).',
    );
  }
  return lines.join('\n');
}

/** `ferry join-token list`: one line per token, never its secret. */
export function renderJoinTokens(response: JoinTokensResponse, now: number): string {
  if (response.joinTokens.length === 0) return 'no join token; create one with: ferry join-token create';
  return response.joinTokens.map((t) => joinTokenLine(t, now)).join('\n');
}

/** `ferry join-token revoke`. */
export function renderJoinTokenRevoked(response: JoinTokenRevokeResponse): string {
  const { id, uses, usesLeft } = response.joinToken;
  return `join token ${id} revoked: it enrolls no one now (it had enrolled ${uses - usesLeft} of ${uses}; those hosts stay enrolled)`;
}

function joinTokenLine(t: JoinTokenView, now: number): string {
  const expiry =
    t.expiresAt > now
      ? `expires ${formatDateTime(t.expiresAt)} (in ${formatUptime(t.expiresAt - now)})`
      : `expired ${formatDateTime(t.expiresAt)}`;
  return [
    t.id,
    t.state.padEnd(7),
    `uses left ${`${t.usesLeft}/${t.uses}`.padEnd(11)}`,
    expiry,
    `created ${formatDateTime(t.createdAt)}`,
    `labels ${labelsText(t)}`,
  ].join('  ');
}

function labelsText(t: JoinTokenView): string {
  return t.labels.map((l) => `${l.key}=${l.value}`).join(',') || '-';
}
