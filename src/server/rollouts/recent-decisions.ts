import type { Clock } from '../../lib/clock.js';
import type { Logger } from '../../lib/logger.js';
import { describeDecision, type LogEntry } from '../../rollout/index.js';
import type { DecisionSink } from './ports.js';

/** How many decisions are kept per rollout unless told otherwise. */
export const DEFAULT_RECENT_DECISIONS = 200;

/**
 * The decision sink of a server: each decision is written to the log as a sentence, and the last
 * `limit` of each rollout are kept whole in memory (the state's own log keeps 50, with long lists
 * of targets cut) for whoever reads them next.
 */
export class RecentDecisions implements DecisionSink {
  private readonly kept = new Map<string, LogEntry[]>();

  constructor(
    private readonly deps: {
      readonly clock: Clock;
      readonly logger?: Logger;
      readonly limit?: number;
    },
  ) {}

  record(rollout: string, entry: LogEntry): void {
    const limit = this.deps.limit ?? DEFAULT_RECENT_DECISIONS;
    let list = this.kept.get(rollout);
    if (list === undefined) this.kept.set(rollout, (list = []));
    list.push(entry);
    if (list.length > limit) list.splice(0, list.length - limit);
    this.deps.logger?.info(
      { rollout, decision: entry.decision.kind },
      describeDecision(entry.decision, this.deps.clock.now()),
    );
  }

  /** The last decisions of a rollout, oldest first. */
  recent(rollout: string): readonly LogEntry[] {
    return this.kept.get(rollout) ?? [];
  }
}
