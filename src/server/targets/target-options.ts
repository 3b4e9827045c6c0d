import type { TargetsDeployBody } from '../../api/types.js';
import { FerryError, isFerryError } from '../../errors/ferry-error.js';
import {
  resolveRolloutOptions,
  type ControllerKind,
  type RolloutControllers,
  type RolloutOptionProblem,
  type RolloutOptionsInput,
} from '../../rollout/index.js';
import type { RolloutSettings } from '../rollouts/rollout-run.js';

type OptionsInput = NonNullable<TargetsDeployBody['options']>;
type ControllersInput = NonNullable<RolloutOptionsInput['controllers']>;

/** The options' name of each controller, and the kind its questions carry. */
export const CONTROLLER_OPTIONS: readonly (readonly [keyof RolloutControllers, ControllerKind])[] = [
  ['selection', 'selection'],
  ['approval', 'approval'],
  ['targetMonitor', 'target-monitor'],
  ['fleetMonitor', 'fleet-monitor'],
  ['removal', 'removal'],
];

/**
 * An entity's settings with a deploy's changes applied: each field given replaces the one it has
 * (a canary's fields within it), null removes an optional one, a controller brings its URL. The
 * result is checked whole with resolveRolloutOptions; its problems are FERRY_E_USAGE, each with its
 * path under `body.options` (`body.options.batch: expected a whole percent 1-100 like "5%", got 0`).
 */
export function applyOptions(current: RolloutSettings, input: OptionsInput): RolloutSettings {
  const options = current.options;
  const controllers: { -readonly [K in keyof ControllersInput]: ControllersInput[K] } = {
    ...options.controllers,
  };
  const endpoints: { -readonly [K in ControllerKind]?: string } = { ...current.endpoints };
  for (const [key, kind] of CONTROLLER_OPTIONS) {
    const given = input.controllers?.[key];
    if (given === undefined) continue;
    if (given === null) {
      controllers[key] = null;
      delete endpoints[kind];
      continue;
    }
    const timeoutMs = given.timeoutMs ?? options.controllers[key]?.timeoutMs;
    const at =
      key === 'approval'
        ? ((given as { at?: 'start' | 'after-canary' }).at ?? options.controllers.approval?.at)
        : undefined;
    controllers[key] = {
      ...(timeoutMs !== undefined ? { timeoutMs } : {}),
      ...(at !== undefined ? { at } : {}),
    };
    endpoints[kind] = given.url;
  }
  const canary =
    input.canary === undefined
      ? options.canary
      : input.canary === null
        ? null
        : { ...(options.canary ?? {}), ...definedOf(input.canary) };
  const merged: RolloutOptionsInput = {
    ...options,
    ...definedOf({
      batch: input.batch,
      maxUnavailable: input.maxUnavailable,
      successPercent: input.successPercent,
      soakMs: input.soakMs,
      deadlineMs: input.deadlineMs,
      silentAfterMs: input.silentAfterMs,
      unseenAfterMs: input.unseenAfterMs,
      mode: input.mode,
    }),
    canary,
    controllers,
  };
  try {
    return { options: resolveRolloutOptions(merged, 'body.options'), endpoints };
  } catch (error) {
    if (!isFerryError(error, 'FERRY_E_CONFIG_INVALID')) throw error;
    const problems = (error.details.problems ?? []) as RolloutOptionProblem[];
    throw new FerryError(
      'FERRY_E_USAGE',
      `invalid request: ${problems.map((p) => `${p.path}: ${p.message}`).join('; ')}`,
      { problems },
    );
  }
}

/** The fields of `value` that are not undefined (a field left out keeps what the entity has). */
function definedOf<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}
