import { FerryError } from '../../errors/ferry-error.js';
import { CONTROLLER_KINDS, ROLLOUT_STATUSES, type RolloutState } from '../../rollout/index.js';
import type { ControllerEndpoints } from './ports.js';

/** Where the rollouts are in the key-value store: `/rollouts/<segment>/<segment>...`. */
export const ROLLOUTS_PREFIX = '/rollouts/';

/**
 * A rollout's key: its path segments under `/rollouts/`, e.g. `['targets', namespace, entity]` for
 * targets outside Ferry or `['apps', app, env]`. The first segment names who the targets are, so
 * each kind of rollout lists its own with one range read.
 */
export type RolloutKey = readonly string[];

/** The store key of a rollout: its segments percent-encoded (a `/` in a name stays in its segment). */
export function rolloutStoreKey(key: RolloutKey): string {
  if (key.length === 0 || key.some((segment) => segment === ''))
    throw new FerryError(
      'FERRY_E_INTERNAL',
      `a rollout key needs non-empty segments, got ${JSON.stringify(key)}`,
    );
  return ROLLOUTS_PREFIX + key.map(encodeURIComponent).join('/');
}

/** The segments of a store key under `/rollouts/`; null for a key that is not one. */
export function rolloutKeyOf(storeKey: string): RolloutKey | null {
  if (!storeKey.startsWith(ROLLOUTS_PREFIX)) return null;
  const segments = storeKey.slice(ROLLOUTS_PREFIX.length).split('/');
  try {
    const decoded = segments.map(decodeURIComponent);
    return decoded.some((s) => s === '') ? null : decoded;
  } catch {
    return null;
  }
}

/** What the store keeps of one rollout: the engine's state and where its controllers are asked. */
export interface RolloutRecord {
  readonly format: 1;
  readonly state: RolloutState;
  readonly endpoints: ControllerEndpoints;
}

/** The record as the store keeps it (JSON). */
export function serializeRecord(record: RolloutRecord): string {
  return JSON.stringify(record);
}

/**
 * A record read from the store. Its shape is checked where the runtime depends on it; a record
 * that is not one fails with FERRY_E_STORE naming the key, rather than a step on garbage.
 */
export function parseRecord(value: string, storeKey: string): RolloutRecord {
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch {
    parsed = undefined;
  }
  const problem = recordProblem(parsed);
  if (problem !== null)
    throw new FerryError(
      'FERRY_E_STORE',
      `the store holds a rollout at ${storeKey} that is not valid: ${problem}`,
      { where: storeKey, expected: 'a rollout record (format 1)', got: problem },
    );
  const record = parsed as RolloutRecord;
  // A rollout stored before Ferry kept what started it: none known.
  return { ...record, state: { ...record.state, trigger: record.state.trigger ?? null } };
}

function recordProblem(value: unknown): string | null {
  if (!isObject(value)) return 'not a JSON object';
  if (value.format !== 1) return `format ${JSON.stringify(value.format)}`;
  const { state, endpoints } = value;
  if (!isObject(endpoints)) return 'no endpoints';
  for (const [kind, url] of Object.entries(endpoints))
    if (!(CONTROLLER_KINDS as readonly string[]).includes(kind) || typeof url !== 'string')
      return `an endpoint ${JSON.stringify(kind)}`;
  if (!isObject(state)) return 'no state';
  if (!(ROLLOUT_STATUSES as readonly unknown[]).includes(state.status)) return 'no rollout status';
  if (!Array.isArray(state.targets) || !Array.isArray(state.lastSeen)) return 'no targets';
  if (state.targets.length !== state.lastSeen.length) return 'targets and lastSeen differ in length';
  if (!Array.isArray(state.calls) || !Array.isArray(state.log) || !isObject(state.options))
    return 'no calls, log or options';
  return null;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
