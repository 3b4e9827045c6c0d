import type { EventSink } from '../../events/publisher.js';
import type { Clock } from '../../lib/clock.js';
import { describeDecision } from '../../rollout/index.js';
import type { DecisionSink } from './ports.js';
import { rolloutKeyOf } from './rollout-record.js';

/**
 * The decisions of rollouts across Ferry's own hosts (`/rollouts/apps/<app>/<env>`), also published
 * on the global event stream as `rollout` events: `ferry events`, the API's stream, `ferry up`'s
 * output and the notifications see a fleet's rollout as they see a deployment. Every decision
 * still goes to `inner` first.
 */
export function publishedDecisions(inner: DecisionSink, events: EventSink, clock: Clock): DecisionSink {
  return {
    record(rollout, entry, state) {
      inner.record(rollout, entry, state);
      const key = rolloutKeyOf(rollout);
      if (key === null || key.length !== 3 || key[0] !== 'apps') return;
      events.publish({
        kind: 'rollout',
        app: key[1]!,
        env: key[2]!,
        decision: entry.decision.kind,
        status: state.status,
        version: state.rolling,
        lkg: state.lkg,
        reason: state.ending?.message ?? null,
        message: describeDecision(entry.decision, clock.now()),
      });
    },
  };
}
