import { chooseRollbackTarget, type LedgerEntry } from '../engine/ledger.js';
import { FerryError } from '../errors/ferry-error.js';

/**
 * The release a rollback goes to (chooseRollbackTarget), or the refusal every rollback path gives:
 * FERRY_E_RELEASE_UNKNOWN for a named release never seen there, else
 * FERRY_E_NOTHING_TO_ROLL_BACK_TO. One host's rollback and a fleet's share it.
 */
export function rollbackTarget(
  releases: readonly LedgerEntry[],
  current: string | null,
  named: string | undefined,
  where: { readonly app: string; readonly env: string },
): string {
  const choice = chooseRollbackTarget(releases, current, named);
  if (choice.ok) return choice.version;
  const unknown = named !== undefined && !releases.some((r) => r.version === named);
  throw new FerryError(
    unknown ? 'FERRY_E_RELEASE_UNKNOWN' : 'FERRY_E_NOTHING_TO_ROLL_BACK_TO',
    `cannot roll back ${where.app} in ${where.env}: ${choice.reason}`,
    { app: where.app, env: where.env },
  );
}
