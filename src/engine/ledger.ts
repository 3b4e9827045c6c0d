/** The release ledger's rules: which release a rollback goes to. */

export interface LedgerEntry {
  readonly version: string;
  readonly status: 'new' | 'good' | 'bad';
  /** When it last became good (ms); null if never. */
  readonly goodAt: number | null;
}

export type RollbackChoice =
  { readonly ok: true; readonly version: string } | { readonly ok: false; readonly reason: string };

/**
 * The release to roll back to: the named one (even if bad: the user named it), or else the most
 * recently good release that is not the current one. Never a bad release unless named.
 */
export function chooseRollbackTarget(
  entries: readonly LedgerEntry[],
  current: string | null,
  named?: string,
): RollbackChoice {
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
