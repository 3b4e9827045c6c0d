import type { RolloutOptions, RolloutState } from './types.js';

export interface RolloutSeed {
  readonly app: string;
  readonly env: string;
  readonly options: RolloutOptions;
  /**
   * The release already known good here (a fleet adopted as it runs); null for a new app. Targets
   * that join get it.
   */
  readonly lkg?: string | null;
}

/** The rollout state of an app in an environment before its first deploy: idle, no targets yet. */
export function createRollout(seed: RolloutSeed, now: number): RolloutState {
  return {
    app: seed.app,
    env: seed.env,
    options: seed.options,
    targets: [],
    lastSeen: [],
    targetVersion: seed.lkg ?? null,
    rolling: seed.lkg ?? null,
    lkg: seed.lkg ?? null,
    lkb: null,
    queued: null,
    status: 'idle',
    direction: 'forward',
    ending: null,
    canaryPassed: true,
    batch: null,
    batches: 0,
    lastBatchId: 0,
    gate: null,
    calls: [],
    nextCall: 1,
    startedAt: null,
    trigger: null,
    updatedAt: now,
    log: [],
  };
}
