import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { amountOf } from './sizes.js';
import { World, hostNames } from './test-support/world.js';
import type { Amount, RolloutState, RolloutTarget } from './types.js';
import type { RolloutEvent } from './events.js';

/**
 * The max-unavailable budget, written here from its definition (docs/rollouts.md) rather than from
 * the engine's code: a target is unavailable when it is in flight, failed, without a release, or
 * not serving its release healthily by its last report.
 */
function unavailable(t: RolloutTarget): boolean {
  const inFlight = t.status === 'converging' || t.status === 'soaking' || t.status === 'verifying';
  const serving = t.assigned !== null && t.healthy && t.reported === t.assigned;
  return inFlight || t.status === 'failed' || t.status === 'unassigned' || !serving;
}

/** A target that was available before this event, the event's own report about it taken in. */
function availableBefore(before: RolloutState, event: RolloutEvent, name: string): boolean {
  const index = before.targets.findIndex((x) => x.name === name);
  const t = before.targets[index];
  if (t === undefined || t.status !== 'settled') return false;
  const lastSeen = before.lastSeen[index] ?? 0;
  const report =
    event.type === 'reported'
      ? event.reports.filter((r) => r.name === name && r.at >= lastSeen).at(-1)
      : undefined;
  const now = report ? { ...t, reported: report.version, healthy: report.healthy } : t;
  return !unavailable(now);
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}

const amount = fc.oneof(
  fc.integer({ min: 1, max: 6 }).map((count): Amount => ({ count })),
  fc.integer({ min: 1, max: 100 }).map((percent): Amount => ({ percent })),
);

const options = fc.record({
  batch: amount,
  maxUnavailable: amount,
  successPercent: fc.integer({ min: 0, max: 100 }),
  soakMs: fc.integer({ min: 0, max: 20_000 }),
  deadlineMs: fc.integer({ min: 0, max: 30_000 }),
  silentAfterMs: fc.integer({ min: 1_000, max: 20_000 }),
  unseenAfterMs: fc.integer({ min: 20_000, max: 120_000 }),
  canary: fc.option(fc.record({ size: amount, pauseMs: fc.integer({ min: 0, max: 30_000 }) }), { nil: null }),
});

const VERSIONS = ['v1', 'v2', 'v3', null] as const;

type Action =
  | { kind: 'report'; dt: number; hosts: { i: number; stray: number | null; healthy: boolean }[] }
  | { kind: 'tick'; dt: number }
  | { kind: 'deploy'; version: string; force: boolean }
  | { kind: 'command'; command: 'pause' | 'resume' | 'abort' }
  | { kind: 'join' }
  | { kind: 'recover' };

const action: fc.Arbitrary<Action> = fc.oneof(
  {
    weight: 8,
    arbitrary: fc.record({
      kind: fc.constant('report' as const),
      dt: fc.integer({ min: 0, max: 15_000 }),
      hosts: fc.array(
        fc.record({
          i: fc.nat(40),
          stray: fc.option(fc.nat(3), { nil: null, freq: 4 }),
          healthy: fc.boolean(),
        }),
        { maxLength: 6 },
      ),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({ kind: fc.constant('tick' as const), dt: fc.integer({ min: 0, max: 60_000 }) }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('deploy' as const),
      version: fc.constantFrom('v2', 'v3', 'v4'),
      force: fc.boolean(),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('command' as const),
      command: fc.constantFrom('pause', 'resume', 'abort'),
    }),
  },
  { weight: 1, arbitrary: fc.constant({ kind: 'join' as const }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'recover' as const }) },
);

describe('invariants (property)', () => {
  it('an assignment that takes an available target out never brings the unavailable targets over the budget', () => {
    let checked = 0;
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 25 }),
        options,
        fc.array(action, { minLength: 1, maxLength: 80 }),
        (n, opts, actions) => {
          const world = new World(opts, hostNames(n));
          world.report();
          let joined = 0;
          for (const a of actions) {
            const names = [...world.hosts.keys()];
            let event: RolloutEvent;
            if (a.kind === 'report') {
              for (const h of a.hosts) {
                const host = world.hosts.get(names[h.i % names.length]!)!;
                if (h.stray !== null) host.version = VERSIONS[h.stray]!;
                host.healthy = h.healthy;
              }
              world.now += a.dt;
              event = {
                type: 'reported',
                reports: [...world.hosts].map(([name, h]) => ({
                  name,
                  at: world.now,
                  version: h.version,
                  healthy: h.healthy && h.version !== null,
                })),
              };
            } else if (a.kind === 'tick') {
              world.now += a.dt;
              event = { type: 'tick' };
            } else if (a.kind === 'deploy') {
              event = { type: 'deploy', version: a.version, force: a.force };
            } else if (a.kind === 'command') {
              event = { type: 'command', command: a.command };
            } else if (a.kind === 'recover') {
              event = { type: 'recover' };
            } else {
              world.hosts.set(`new-${joined++}`, { version: null, healthy: true, reporting: true });
              continue;
            }
            // A step never changes the state it is given (a frozen one throws if it tried).
            const before = deepFreeze(world.state);
            const out = world.send(event);
            const assigned = out.effects.flatMap((e) =>
              e.type === 'record' && e.decision.kind === 'assigned' ? e.decision.targets : [],
            );
            // A target is told one thing per step at most.
            const told = out.effects.flatMap((e) => (e.type === 'assign' ? [e.target] : []));
            expect(new Set(told).size).toBe(told.length);
            const active = out.state.targets.filter((t) => t.status !== 'removed');
            const budget = amountOf(opts.maxUnavailable, active.length);
            if (assigned.some((name) => availableBefore(before, event, name))) {
              checked++;
              expect(active.filter(unavailable).length).toBeLessThanOrEqual(budget);
            }
            // The batch bounds the targets in flight on it, whatever the budget.
            const b = out.state.batch;
            if (b !== null) {
              const members = new Set(b.targets);
              const inFlight = active.filter(
                (t) =>
                  members.has(t.name) && t.assigned === b.version && unavailable(t) && t.status !== 'failed',
              );
              expect(inFlight.length).toBeLessThanOrEqual(b.size);
            }
          }
          // The last-seen column stays aligned with the targets, and the state plain JSON data.
          expect(world.state.lastSeen).toHaveLength(world.state.targets.length);
          expect(JSON.parse(JSON.stringify(world.state))).toEqual(world.state);
        },
      ),
      { numRuns: 400 },
    );
    // The runs did take available targets out, many times.
    expect(checked).toBeGreaterThan(50);
  });
});
