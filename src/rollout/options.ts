import { FerryError, describeValue } from '../errors/ferry-error.js';
import type {
  Amount,
  ApprovalOptions,
  CanaryOptions,
  ControllerOptions,
  RolloutControllers,
  RolloutOptions,
} from './types.js';

/** nixmade/orchestrator's defaults (batch 5%, success 100%, 60 s, 120 s, 900 s) and Ferry's own. */
export const DEFAULT_ROLLOUT_OPTIONS: RolloutOptions = Object.freeze({
  batch: Object.freeze({ percent: 5 }),
  maxUnavailable: null,
  successPercent: 100,
  soakMs: 60_000,
  deadlineMs: 120_000,
  silentAfterMs: 30_000,
  unseenAfterMs: 900_000,
  canary: null,
  mode: 'in-place',
  controllers: Object.freeze({
    selection: null,
    approval: null,
    targetMonitor: null,
    fleetMonitor: null,
    removal: null,
  }),
});

/** A controller's answer may take this long unless its options say otherwise. */
export const DEFAULT_CONTROLLER_TIMEOUT_MS: Readonly<Record<keyof RolloutControllers, number>> = {
  selection: 30_000,
  approval: 3_600_000,
  targetMonitor: 30_000,
  fleetMonitor: 60_000,
  removal: 30_000,
};

export const DEFAULT_CANARY: CanaryOptions = Object.freeze({
  size: Object.freeze({ count: 1 }),
  pauseMs: 300_000,
  analysis: false,
});

type ControllerInput = Partial<ControllerOptions> | null;

/** Rollout options as a caller gives them: any field left out takes its default. */
export interface RolloutOptionsInput {
  readonly batch?: Amount;
  readonly maxUnavailable?: Amount | null;
  readonly successPercent?: number;
  readonly soakMs?: number;
  readonly deadlineMs?: number;
  readonly silentAfterMs?: number;
  readonly unseenAfterMs?: number;
  readonly canary?: Partial<CanaryOptions> | null;
  readonly mode?: RolloutOptions['mode'];
  readonly controllers?: {
    readonly selection?: ControllerInput;
    readonly approval?: (ControllerInput & { readonly at?: ApprovalOptions['at'] }) | null;
    readonly targetMonitor?: ControllerInput;
    readonly fleetMonitor?: ControllerInput;
    readonly removal?: ControllerInput;
  };
}

export interface RolloutOptionProblem {
  readonly path: string;
  readonly message: string;
}

/**
 * Fills in the defaults and checks every field; throws FERRY_E_CONFIG_INVALID listing every problem
 * (each with its dotted path under `path`) and changes nothing.
 */
export function resolveRolloutOptions(input: RolloutOptionsInput = {}, path = 'rollout'): RolloutOptions {
  const options = withDefaults(input);
  const problems = rolloutOptionProblems(options, path);
  if (problems.length === 0) return options;
  const lines = problems.map((p) => `  ${p.path}: ${p.message}`);
  throw new FerryError(
    'FERRY_E_CONFIG_INVALID',
    `${path} has ${problems.length} problem${problems.length === 1 ? '' : 's'}:\n${lines.join('\n')}`,
    { where: path, problems },
  );
}

function withDefaults(input: RolloutOptionsInput): RolloutOptions {
  const d = DEFAULT_ROLLOUT_OPTIONS;
  const c = input.controllers ?? {};
  const controller = (value: ControllerInput | undefined, key: keyof RolloutControllers) =>
    value == null ? null : { timeoutMs: value.timeoutMs ?? DEFAULT_CONTROLLER_TIMEOUT_MS[key] };
  const approval = controller(c.approval, 'approval');
  return {
    batch: input.batch ?? d.batch,
    maxUnavailable: input.maxUnavailable ?? null,
    successPercent: input.successPercent ?? d.successPercent,
    soakMs: input.soakMs ?? d.soakMs,
    deadlineMs: input.deadlineMs ?? d.deadlineMs,
    silentAfterMs: input.silentAfterMs ?? d.silentAfterMs,
    unseenAfterMs: input.unseenAfterMs ?? d.unseenAfterMs,
    canary: input.canary == null ? null : { ...DEFAULT_CANARY, ...input.canary },
    mode: input.mode ?? d.mode,
    controllers: {
      selection: controller(c.selection, 'selection'),
      approval: approval === null ? null : { ...approval, at: c.approval?.at ?? 'start' },
      targetMonitor: controller(c.targetMonitor, 'targetMonitor'),
      fleetMonitor: controller(c.fleetMonitor, 'fleetMonitor'),
      removal: controller(c.removal, 'removal'),
    },
  };
}

/** Every problem of compiled options, for a caller that gathers problems of its own (the config). */
export function rolloutOptionProblems(options: RolloutOptions, path = 'rollout'): RolloutOptionProblem[] {
  const problems: RolloutOptionProblem[] = [];
  const at = (field: string) => `${path}.${field}`;
  const check = (ok: boolean, field: string, expected: string, got: unknown) => {
    if (!ok) problems.push({ path: at(field), message: `expected ${expected}, got ${describeValue(got)}` });
  };
  amountProblems(options.batch, at('batch'), problems);
  if (options.maxUnavailable !== null) amountProblems(options.maxUnavailable, at('maxUnavailable'), problems);
  check(
    isWhole(options.successPercent, 0, 100),
    'successPercent',
    'a whole percent 0-100',
    options.successPercent,
  );
  check(isWhole(options.soakMs, 0), 'soakMs', 'a duration of 0 ms or more', options.soakMs);
  check(isWhole(options.deadlineMs, 0), 'deadlineMs', 'a duration of 0 ms or more', options.deadlineMs);
  check(isWhole(options.unseenAfterMs, 1), 'unseenAfterMs', 'a duration over 0 ms', options.unseenAfterMs);
  check(
    isWhole(options.silentAfterMs, 1, Math.max(options.unseenAfterMs, 1)),
    'silentAfterMs',
    `a duration over 0 ms and at most unseenAfterMs (${options.unseenAfterMs} ms)`,
    options.silentAfterMs,
  );
  check(
    options.mode === 'in-place' || options.mode === 'replace',
    'mode',
    '"in-place" or "replace"',
    options.mode,
  );
  const canary = options.canary;
  if (canary !== null) {
    amountProblems(canary.size, at('canary.size'), problems);
    check(isWhole(canary.pauseMs, 0), 'canary.pauseMs', 'a duration of 0 ms or more', canary.pauseMs);
    check(
      !canary.analysis || options.controllers.fleetMonitor !== null,
      'canary.analysis',
      'a fleet-monitor controller (controllers.fleetMonitor) to give the verdict',
      'none configured',
    );
  }
  const controllers = options.controllers;
  for (const key of Object.keys(controllers) as (keyof RolloutControllers)[]) {
    const c = controllers[key];
    if (c !== null)
      check(isWhole(c.timeoutMs, 1), `controllers.${key}.timeoutMs`, 'a duration over 0 ms', c.timeoutMs);
  }
  if (controllers.approval !== null) {
    const when = controllers.approval.at;
    check(
      when === 'start' || when === 'after-canary',
      'controllers.approval.at',
      '"start" or "after-canary"',
      when,
    );
    check(
      when !== 'after-canary' || canary !== null,
      'controllers.approval.at',
      'a canary to follow',
      'none configured',
    );
  }
  if (options.mode === 'replace') {
    check(
      controllers.selection !== null,
      'controllers.selection',
      'a selection controller (it names the new targets) in replace mode',
      'none configured',
    );
    check(
      controllers.removal !== null,
      'controllers.removal',
      'a removal controller (it picks the old targets) in replace mode',
      'none configured',
    );
  }
  return problems;
}

function amountProblems(amount: Amount, path: string, problems: RolloutOptionProblem[]): void {
  if ('percent' in amount) {
    if (!isWhole(amount.percent, 1, 100))
      problems.push({
        path,
        message: `expected a whole percent 1-100 like "5%", got ${describeValue(amount.percent)}`,
      });
  } else if (!isWhole(amount.count, 1)) {
    problems.push({
      path,
      message: `expected a count of 1 or more targets, got ${describeValue(amount.count)}`,
    });
  }
}

function isWhole(value: number, min: number, max = Number.MAX_SAFE_INTEGER): boolean {
  return Number.isInteger(value) && value >= min && value <= max;
}

/**
 * Reads an amount as people write it: "25%" (a percent of the targets) or 3 / "3" (a count);
 * undefined when it is neither.
 */
export function parseAmount(value: string | number): Amount | undefined {
  const text = String(value).trim();
  const percent = /^(\d+)%$/.exec(text);
  if (percent) return { percent: Number(percent[1]) };
  return /^\d+$/.test(text) ? { count: Number(text) } : undefined;
}
