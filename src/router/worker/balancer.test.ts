import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { pickBackend, type Candidate, type Cursor } from './balancer.js';

interface TestCandidate extends Candidate {
  id: string;
}

const NOW = 1_000_000;

function candidate(
  id: string,
  weight: number,
  healthy = true,
  ejectedUntil: number | null = null,
): TestCandidate {
  return { id, weight, healthy, ejectedUntil, currentWeight: 0 };
}

function pickMany(
  backends: TestCandidate[],
  count: number,
  excluded?: Set<TestCandidate>,
): Map<string, number> {
  const cursor: Cursor = { next: 0 };
  const counts = new Map<string, number>();
  for (let i = 0; i < count; i++) {
    const picked = pickBackend(backends, NOW, cursor, excluded);
    const id = picked?.id ?? 'none';
    counts.set(id, (counts.get(id) ?? 0) + 1);
  }
  return counts;
}

describe('pickBackend', () => {
  it('splits exactly by weight over a cycle, interleaving rather than bursting', () => {
    const backends = [candidate('a', 90), candidate('b', 10)];
    expect(pickMany(backends, 1000)).toEqual(
      new Map([
        ['a', 900],
        ['b', 100],
      ]),
    );
    const cursor = { next: 0 };
    const firstTen = Array.from({ length: 10 }, () => pickBackend(backends, NOW, cursor)?.id);
    expect(firstTen.filter((id) => id === 'b')).toHaveLength(1);
  });

  it('gives weight-0 backends nothing while a weighted one is usable, and uses them when none is', () => {
    expect(pickMany([candidate('new', 1), candidate('old', 0)], 50)).toEqual(new Map([['new', 50]]));
    expect(pickMany([candidate('new', 1, false), candidate('old', 0)], 50)).toEqual(new Map([['old', 50]]));
    expect(pickMany([candidate('new', 1, true, NOW + 1), candidate('old', 0)], 50)).toEqual(
      new Map([['old', 50]]),
    );
  });

  it('skips ejected backends, and uses them anyway when every healthy backend is ejected (panic)', () => {
    expect(pickMany([candidate('a', 1, true, NOW + 1000), candidate('b', 1)], 10)).toEqual(
      new Map([['b', 10]]),
    );
    expect(pickMany([candidate('a', 1, true, NOW - 1), candidate('b', 1)], 10)).toEqual(
      new Map([
        ['a', 5],
        ['b', 5],
      ]),
    );
    const panic = pickMany([candidate('a', 1, true, NOW + 1000), candidate('b', 1, true, NOW + 1000)], 10);
    expect(panic).toEqual(
      new Map([
        ['a', 5],
        ['b', 5],
      ]),
    );
  });

  it('never picks an excluded backend, and returns nothing when only unhealthy or excluded remain', () => {
    const a = candidate('a', 1);
    const b = candidate('b', 1);
    expect(pickMany([a, b], 10, new Set([a]))).toEqual(new Map([['b', 10]]));
    expect(pickMany([a, b], 3, new Set([a, b]))).toEqual(new Map([['none', 3]]));
    expect(pickMany([candidate('sick', 5, false)], 3)).toEqual(new Map([['none', 3]]));
    expect(pickMany([], 1)).toEqual(new Map([['none', 1]]));
  });

  it('never routes to an unhealthy backend, and finds one whenever a healthy one is not excluded', () => {
    const arbitraryBackend = fc.record({
      weight: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 100 })),
      healthy: fc.boolean(),
      ejected: fc.boolean(),
      excluded: fc.boolean(),
    });
    fc.assert(
      fc.property(
        fc.array(arbitraryBackend, { maxLength: 8 }),
        fc.integer({ min: 1, max: 30 }),
        (specs, picks) => {
          const backends = specs.map((s, i) =>
            candidate(String(i), s.weight, s.healthy, s.ejected ? NOW + 1 : null),
          );
          const excluded = new Set(backends.filter((_, i) => specs[i]!.excluded));
          const anyUsable = backends.some((b) => b.healthy && !excluded.has(b));
          const cursor = { next: 0 };
          for (let i = 0; i < picks; i++) {
            const picked = pickBackend(backends, NOW, cursor, excluded);
            if (picked === undefined) return !anyUsable;
            if (!picked.healthy || excluded.has(picked)) return false;
          }
          return anyUsable;
        },
      ),
      { numRuns: 500 },
    );
  });
});
