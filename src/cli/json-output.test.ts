import { describe, expect, it } from 'vitest';
import { withIsoTimes } from './json-output.js';

describe("the CLI's JSON: times also in ISO 8601", () => {
  it('adds <name>Iso beside each point in time, at any depth, and leaves durations and the rest alone', () => {
    const at = Date.UTC(2026, 0, 1, 10, 41, 7, 112);
    expect(
      withIsoTimes({
        deployment: { createdAt: at, phaseSince: at, pausedRemainingMs: 5000, healthDeadlineMs: 15_000 },
        events: [{ at, seq: 1, message: 'x' }],
        canary: { since: null, step: 0 },
        router: { uptimeMs: 1000 },
        label: 'createdAt',
      }),
    ).toEqual({
      deployment: {
        createdAt: at,
        createdAtIso: '2026-01-01T10:41:07.112Z',
        phaseSince: at,
        phaseSinceIso: '2026-01-01T10:41:07.112Z',
        pausedRemainingMs: 5000,
        healthDeadlineMs: 15_000,
      },
      events: [{ at, atIso: '2026-01-01T10:41:07.112Z', seq: 1, message: 'x' }],
      canary: { since: null, sinceIso: null, step: 0 },
      router: { uptimeMs: 1000 },
      label: 'createdAt',
    });
  });

  it('keeps a "__proto__" key from the wire as data', () => {
    const parsed = JSON.parse('{"__proto__": {"at": 0}}') as unknown;
    const out = withIsoTimes(parsed) as Record<string, unknown>;
    expect(Object.getPrototypeOf(out)).toBe(Object.prototype);
    expect(JSON.stringify(out)).toBe('{"__proto__":{"at":0,"atIso":"1970-01-01T00:00:00.000Z"}}');
  });
});
