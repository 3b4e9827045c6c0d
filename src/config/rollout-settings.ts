import { FerryError } from '../errors/ferry-error.js';
import {
  resolveRolloutOptions,
  type ControllerKind,
  type RolloutOptions,
  type RolloutOptionsInput,
} from '../rollout/index.js';
import type { ConfigProblem } from './compile.js';
import type { RawApp } from './schema.js';
import type { AppConfig } from './types.js';
import { formatDuration } from '../lib/duration.js';

/** An app's rollout across hosts: the engine's options and where its controllers are asked. */
export interface AppRolloutConfig {
  readonly options: RolloutOptions;
  /** Controller URLs by kind (they may carry credentials: never shown). */
  readonly endpoints: Readonly<Partial<Record<ControllerKind, string>>>;
  /** `ferry restart` across the environment's hosts: at most this many restart at once (default 1). */
  readonly restartAtOnce: number;
}

/**
 * ferry.yaml's `rollout` of an app, compiled: the engine's defaults filled in and every field
 * checked by the engine's own rules (one validator), each problem under `apps.<name>.rollout`.
 */
export function compileRollout(
  raw: RawApp['rollout'],
  where: string,
  problems: ConfigProblem[],
): AppRolloutConfig {
  const c = raw.controllers ?? {};
  const timeout = (controller: { timeout?: number | undefined } | undefined) =>
    controller === undefined
      ? null
      : controller.timeout === undefined
        ? {}
        : { timeoutMs: controller.timeout };
  const input: RolloutOptionsInput = {
    ...(raw.batch !== undefined ? { batch: raw.batch } : {}),
    ...(raw.max_unavailable !== undefined ? { maxUnavailable: raw.max_unavailable } : {}),
    ...(raw.success !== undefined ? { successPercent: raw.success } : {}),
    ...(raw.soak !== undefined ? { soakMs: raw.soak } : {}),
    ...(raw.deadline !== undefined ? { deadlineMs: raw.deadline } : {}),
    ...(raw.silent_after !== undefined ? { silentAfterMs: raw.silent_after } : {}),
    ...(raw.unseen_after !== undefined ? { unseenAfterMs: raw.unseen_after } : {}),
    ...(raw.canary !== undefined
      ? {
          canary: {
            ...(raw.canary.size !== undefined ? { size: raw.canary.size } : {}),
            ...(raw.canary.pause !== undefined ? { pauseMs: raw.canary.pause } : {}),
            ...(raw.canary.analysis !== undefined ? { analysis: raw.canary.analysis } : {}),
          },
        }
      : {}),
    controllers: {
      selection: timeout(c.selection),
      approval:
        c.approval === undefined
          ? null
          : { ...timeout(c.approval), ...(c.approval.at ? { at: c.approval.at } : {}) },
      targetMonitor: timeout(c.target_monitor),
      fleetMonitor: timeout(c.fleet_monitor),
    },
  };
  const restartAtOnce = raw.restart_at_once ?? 1;
  const endpoints: Partial<Record<ControllerKind, string>> = {};
  if (c.selection) endpoints.selection = c.selection.url;
  if (c.approval) endpoints.approval = c.approval.url;
  if (c.target_monitor) endpoints['target-monitor'] = c.target_monitor.url;
  if (c.fleet_monitor) endpoints['fleet-monitor'] = c.fleet_monitor.url;
  try {
    return { options: resolveRolloutOptions(input, `${where}.rollout`), endpoints, restartAtOnce };
  } catch (error) {
    if (!(error instanceof FerryError)) throw error;
    const found = (error.details.problems as ConfigProblem[] | undefined) ?? [
      { path: `${where}.rollout`, message: error.message },
    ];
    // The engine names its options as the API does; the file's reader knows ferry.yaml's keys.
    problems.push(...found.map((p) => ({ path: inYamlNames(p.path), message: inYamlNames(p.message) })));
    return { options: resolveRolloutOptions({}), endpoints, restartAtOnce };
  }
}

/**
 * On enrolled hosts, each host of a batch runs the app's canary steps before its target can
 * succeed: a rollout deadline shorter than the steps' pauses would fail every host mid-canary.
 */
export function checkHostCanaryDeadline(
  app: Pick<AppConfig, 'name' | 'strategy' | 'canary' | 'rollout'>,
  problems: ConfigProblem[],
): void {
  if (app.strategy.kind !== 'canary') return;
  const pausesMs = app.canary.steps.reduce((sum, step) => sum + step.pauseMs, 0);
  const { deadlineMs } = app.rollout.options;
  if (deadlineMs > pausesMs) return;
  problems.push({
    path: `apps.${app.name}.rollout.deadline`,
    message: `expected more than the canary's pauses on each host (${formatDuration(pausesMs)} in all), got ${formatDuration(deadlineMs)}: every host would fail at its deadline in the middle of its canary steps`,
  });
}

/** The rollout engine's option names and their keys in ferry.yaml (`apps.<name>.rollout`). */
const YAML_NAMES: ReadonlyArray<readonly [string, string]> = [
  ['maxUnavailable', 'max_unavailable'],
  ['successPercent', 'success'],
  ['soakMs', 'soak'],
  ['deadlineMs', 'deadline'],
  ['unseenAfterMs', 'unseen_after'],
  ['silentAfterMs', 'silent_after'],
  ['pauseMs', 'pause'],
  ['targetMonitor', 'target_monitor'],
  ['fleetMonitor', 'fleet_monitor'],
  ['timeoutMs', 'timeout'],
];

function inYamlNames(text: string): string {
  return YAML_NAMES.reduce(
    (out, [engine, yaml]) => out.replace(new RegExp(`\\b${engine}\\b`, 'g'), yaml),
    text,
  );
}
