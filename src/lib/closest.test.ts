import { describe, expect, it } from 'vitest';
import { closest, editDistance } from './closest.js';

describe('closest', () => {
  it.each([
    ['helth', ['artifact', 'health', 'run'], 'health'],
    ['listne', ['listen', 'instances'], 'listen'],
    ['healthy-threshold', ['healthy_threshold', 'unhealthy_threshold'], 'healthy_threshold'],
    ['Instances', ['instances', 'listen'], 'instances'],
    ['bluegreen', ['blue-green', 'canary', 'all-at-once'], 'blue-green'],
    ['healthcheck', ['health', 'hooks'], null],
    ['x', ['run', 'env'], null],
  ])('%s among %j: %s', (word, candidates, expected) => {
    expect(closest(word, candidates)).toBe(expected);
  });

  it('counts a swap of neighbours as one edit', () => {
    expect(editDistance('stratgey', 'strategy')).toBe(1);
    expect(editDistance('', 'abc')).toBe(3);
    expect(editDistance('kitten', 'sitting')).toBe(3);
  });
});
