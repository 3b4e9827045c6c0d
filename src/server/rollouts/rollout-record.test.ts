import { describe, expect, it } from 'vitest';
import { createRollout } from '../../rollout/index.js';
import { resolveRolloutOptions } from '../../rollout/options.js';
import { parseRecord, serializeRecord } from './rollout-record.js';

describe('a rollout record read from the store', () => {
  const state = {
    ...createRollout({ app: 'web', env: 'production', options: resolveRolloutOptions({}) }, 0),
    trigger: { kind: 'watcher', actor: 'watcher:github:octo/web' } as const,
  };

  it('keeps what started the rollout', () => {
    const stored = serializeRecord({ format: 1, state, endpoints: {} });
    expect(parseRecord(stored, '/rollouts/apps/web/production').state.trigger).toEqual(state.trigger);
  });

  it('written before Ferry kept triggers, reads with trigger null', () => {
    const { trigger: _gone, ...older } = state;
    const stored = JSON.stringify({ format: 1, state: older, endpoints: {} });
    const read = parseRecord(stored, '/rollouts/apps/web/production');
    expect(read.state.trigger).toBeNull();
    expect(read.state).toEqual({ ...state, trigger: null });
  });
});
