import { cronParser } from '../lib/cron.js';
import semver from 'semver';
import { z } from 'zod';
import { messageOf } from '../errors/ferry-error.js';
import { duration } from './fields.js';
import type { ConfigProblem } from './compile.js';

/**
 * `apps.<app>.environments.<env>.auto_deploy`: whether releases found by a source, a webhook or a
 * user deploy by themselves there, and under which policy (docs/triggers.md#policies).
 */
const policyObject = z.strictObject({
  /** A semver range (`^1.2.0`, `>=2 <3`): versions outside it are recorded, not deployed. */
  versions: z.string().min(1).optional(),
  /** Deployment windows: a 5-field cron expression for each opening and how long it stays open. */
  windows: z
    .array(z.strictObject({ cron: z.string().min(1), duration }))
    .min(1)
    .optional(),
  /** The time zone of the windows' cron expressions. */
  timezone: z.string().min(1).optional(),
  /** A release deploys once no newer one came for this long (a burst deploys only the newest). */
  debounce: duration.optional(),
});

/** `true`, `false` or a policy; a policy's problems name its own fields (a union's would not). */
export const autoDeploySchema = z
  .unknown()
  .transform((value, ctx): boolean | z.output<typeof policyObject> => {
    if (typeof value === 'boolean') return value;
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      ctx.addIssue({
        code: 'custom',
        message: 'expected true, false or a policy {versions, windows, timezone, debounce}',
      });
      return z.NEVER;
    }
    const parsed = policyObject.safeParse(value);
    if (parsed.success) return parsed.data;
    for (const issue of parsed.error.issues)
      ctx.addIssue({ code: 'custom', message: issue.message, path: issue.path });
    return z.NEVER;
  });

export type RawAutoDeploy = z.output<typeof autoDeploySchema>;

/** One deployment window: opens at each time the cron expression names, for `durationMs`. */
export interface DeployWindow {
  readonly cron: string;
  readonly durationMs: number;
}

/** An environment's auto-deploy policy, compiled. */
export interface AutoDeployPolicy {
  readonly enabled: boolean;
  /** A valid semver range; null: any version. */
  readonly versions: string | null;
  /** Empty: always open. */
  readonly windows: readonly DeployWindow[];
  /** UTC or an IANA zone. */
  readonly timezone: string;
  readonly debounceMs: number;
}

/** The policy of an environment whose app has a trigger or source and no `auto_deploy` of its own. */
export const DEFAULT_AUTO_DEPLOY: AutoDeployPolicy = {
  enabled: true,
  versions: null,
  windows: [],
  timezone: 'UTC',
  debounceMs: 0,
};

/** `auto_deploy` compiled (null when not configured: the app's defaults apply); problems name the path. */
export function compileAutoDeploy(
  raw: RawAutoDeploy | undefined,
  where: string,
  problems: ConfigProblem[],
): AutoDeployPolicy | null {
  if (raw === undefined) return null;
  if (typeof raw === 'boolean') return { ...DEFAULT_AUTO_DEPLOY, enabled: raw };
  const timezone = raw.timezone ?? 'UTC';
  if (!isTimeZone(timezone))
    problems.push({
      path: `${where}.timezone`,
      message: `expected UTC or an IANA time zone like "Europe/Paris", got "${timezone}"`,
    });
  if (raw.versions !== undefined && semver.validRange(raw.versions) === null)
    problems.push({
      path: `${where}.versions`,
      message: `expected a semver range like "^1.2.0" or ">=2 <3", got "${raw.versions}"`,
    });
  (raw.windows ?? []).forEach((window, index) => {
    const problem = cronProblem(window.cron);
    if (problem !== null) problems.push({ path: `${where}.windows.${index}.cron`, message: problem });
    if (window.duration <= 0)
      problems.push({
        path: `${where}.windows.${index}.duration`,
        message: 'expected a duration longer than 0, like "8h"',
      });
  });
  return {
    enabled: true,
    versions: raw.versions ?? null,
    windows: (raw.windows ?? []).map((w) => ({ cron: w.cron, durationMs: w.duration })),
    timezone,
    debounceMs: raw.debounce ?? 0,
  };
}

function cronProblem(cron: string): string | null {
  const fields = cron.trim().split(/\s+/).length;
  if (fields !== 5)
    return `expected a 5-field cron expression (minute hour day month weekday) like "0 9 * * 1-5", got "${cron}" (${fields} fields)`;
  try {
    cronParser().parse(cron, { tz: 'UTC' });
    return null;
  } catch (error) {
    return `expected a cron expression like "0 9 * * 1-5", got "${cron}": ${messageOf(error)}`;
  }
}

function isTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}
