import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { sortByName } from './sort-by-name.js';

const byCodeUnits = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

describe('sortByName', () => {
  it('orders as a stable sort comparing names with < does, for any names', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.oneof(fc.string({ maxLength: 6 }), fc.constantFrom('host-1', 'host-10', 'host-2', 'é', 'z')),
          {
            maxLength: 300,
          },
        ),
        (names) => {
          const items = names.map((name, arrival) => ({ name, arrival }));
          const expected = [...items].sort((a, b) => byCodeUnits(a.name, b.name));
          expect(sortByName(items, (i) => i.name)).toEqual(expected);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('sorts a fleet of host names sharing a prefix', () => {
    const names = Array.from({ length: 5000 }, (_, i) => `web-${(i * 7919) % 5000}.zone-a.example.com`);
    expect(sortByName(names, (n) => n)).toEqual([...names].sort());
  });
});
