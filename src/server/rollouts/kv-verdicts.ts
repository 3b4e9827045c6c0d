import type { KvStore } from '../../store/kv/kv.js';
import type { ReleaseVerdict, ReleaseVerdicts } from './ports.js';
import { ROLLOUTS_PREFIX } from './rollout-record.js';

/** Where the verdicts are: `/verdicts/<the rollout key's segments>/<version>`. */
export const VERDICTS_PREFIX = '/verdicts/';

/** A verdict as it is kept and listed. */
export type KeptVerdict = Omit<ReleaseVerdict, 'rollout'>;

/**
 * Release verdicts in the key-value store, one key per release of a rollout: the latest verdict
 * on a release replaces an earlier one (a release forced again after it failed may succeed).
 */
export class KvReleaseVerdicts implements ReleaseVerdicts {
  constructor(private readonly kv: KvStore) {}

  async mark(verdict: ReleaseVerdict): Promise<void> {
    const { rollout: _rollout, ...kept } = verdict;
    await this.kv.put(
      `${verdictsPrefix(verdict.rollout)}${encodeURIComponent(verdict.version)}`,
      JSON.stringify(kept),
    );
  }

  /** The verdicts of a rollout (by its store key), in the order they were given. */
  async list(rollout: string): Promise<KeptVerdict[]> {
    const { entries } = await this.kv.range(verdictsPrefix(rollout));
    const kept = entries.flatMap((entry) => {
      try {
        const parsed = JSON.parse(entry.value) as KeptVerdict;
        return [{ verdict: parsed, revision: entry.modRevision }];
      } catch {
        return [];
      }
    });
    return kept.sort((a, b) => a.revision - b.revision).map((k) => k.verdict);
  }
}

function verdictsPrefix(rollout: string): string {
  return `${VERDICTS_PREFIX}${rollout.slice(ROLLOUTS_PREFIX.length)}/`;
}
