import { createHash } from 'node:crypto';
import type { InstanceSpec } from './types.js';

/** The variable an instance carries its run digest in (read back from /proc after a daemon restart). */
export const RUN_DIGEST_VAR = 'FERRY_RUN';

/**
 * A short digest of how an instance is run: its command, arguments, variables and account. An
 * instance carries it in its environment (FERRY_RUN), so a restarted daemon tells the instances
 * that run as ferry.yaml says from those started under an earlier run configuration, without keeping
 * a copy of the configuration (and its secrets) anywhere. The release and port are not part of it.
 */
export function runDigest(spec: Pick<InstanceSpec, 'command' | 'args' | 'envVars' | 'account'>): string {
  const vars = Object.entries(spec.envVars).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const account = spec.account ? [spec.account.uid, spec.account.gid] : null;
  return createHash('sha256')
    .update(JSON.stringify([spec.command, spec.args, vars, account]))
    .digest('hex')
    .slice(0, 16);
}
