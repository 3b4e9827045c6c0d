import type { RolloutResponse } from '../api/types.js';
import type { ApiClient } from './client.js';
import { ENDED_STATUSES, newDecisions, renderRolloutLine } from './render-rollout.js';

/** How often `--wait` reads a rollout across hosts (it moves at the hosts' pace: seconds). */
const POLL_MS = 500;

/**
 * `--wait` for a rollout across an environment's hosts: prints each decision as it is made (batch
 * started, host succeeded or failed, rollback), until the rollout ends; 0 when it succeeded, 1
 * otherwise (rolled back, aborted, failed). Ctrl-C stops waiting, not the rollout.
 */
export async function waitForRollout(
  client: ApiClient,
  app: string,
  env: string,
  out: NodeJS.WritableStream,
  opts: { readonly json: boolean },
): Promise<number> {
  const printed = new Set<string>();
  const path = `/v1/apps/${encodeURIComponent(app)}/rollout?env=${encodeURIComponent(env)}`;
  for (;;) {
    const { rollout } = await client.get<RolloutResponse>(path);
    if (opts.json) out.write(`${JSON.stringify({ kind: 'rollout', rollout })}\n`);
    else for (const line of newDecisions(rollout, printed)) out.write(`${line}\n`);
    if (ENDED_STATUSES.has(rollout.status) || rollout.status === 'idle') {
      if (!opts.json) out.write(`${renderRolloutLine(rollout)}\n`);
      return rollout.status === 'succeeded' ? 0 : 1;
    }
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}
