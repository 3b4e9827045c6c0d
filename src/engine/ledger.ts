/** The release ledger's rules: which release a rollback goes to, what automation may deploy. */

export interface LedgerEntry {
  readonly version: string;
  readonly status: 'new' | 'good' | 'bad' | 'rolled-back';
  /** When it last became good (ms); null if never. */
  readonly goodAt: number | null;
  /** When the release was first seen (ms). */
  readonly createdAt: number;
  /** Why it has its status (the failure of a bad release...); null if none. */
  readonly reason?: string | null;
}

export type LedgerChoice =
  { readonly ok: true; readonly version: string } | { readonly ok: false; readonly reason: string };

/**
 * The release to roll back to: the named one (even if bad: the user named it), or else the most
 * recently good release that is not the current one. Never a bad or rolled-back release unless named:
 * only good releases are candidates, so a second rollback does not return to the release the first
 * one left.
 */
export function chooseRollbackTarget(
  entries: readonly LedgerEntry[],
  current: string | null,
  named?: string,
): LedgerChoice {
  if (named !== undefined) {
    const entry = entries.find((e) => e.version === named);
    if (!entry) return { ok: false, reason: `release ${named} is not known here` };
    if (named === current) return { ok: false, reason: `release ${named} is already the current release` };
    return { ok: true, version: named };
  }
  const candidates = entries
    .filter((e) => e.status === 'good' && e.version !== current && e.goodAt !== null)
    .sort((a, b) => b.goodAt! - a.goodAt!);
  const best = candidates[0];
  if (!best)
    return {
      ok: false,
      reason: `no good release other than ${current ?? 'the current one'} to roll back to`,
    };
  return { ok: true, version: best.version };
}

/**
 * Whether an automatic source (a release watcher, a webhook) may deploy `version` without a person
 * asking. A release the ledger marks bad or rolled back is not deployed automatically: it already
 * failed or was left on purpose here, and a watcher seeing it again must not bring it back. Automation
 * waits until a newer release exists (and deploys that one). A person can still deploy it by name.
 */
export function mayDeployAutomatically(entries: readonly LedgerEntry[], version: string): LedgerChoice {
  const entry = entries.find((e) => e.version === version);
  if (!entry || entry.status === 'new' || entry.status === 'good') return { ok: true, version };
  const newer = entries.some((e) => e.createdAt > entry.createdAt);
  const why = entry.reason ? ` (${entry.reason})` : '';
  return {
    ok: false,
    reason: newer
      ? `release ${version} is marked ${entry.status}${why} and newer releases exist; automation deploys the newest instead`
      : `release ${version} is marked ${entry.status}${why}; nothing is deployed automatically until a newer release exists`,
  };
}
