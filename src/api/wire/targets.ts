/**
 * Targets outside Ferry (nixmade/orchestrator's model: namespace -> entity -> targets): a client
 * reports the state of the targets it runs and is answered the release each should run, so the
 * same rollout rules (batches, health, soak, last known good, rollback) drive systems Ferry does
 * not run itself. Requests as they are validated, answers as they are described.
 */
import { z } from 'zod';
import { triggerSchema } from './trigger.js';
import { version } from '../../config/fields.js';
import { describeValue } from '../../errors/ferry-error.js';
import { parseDuration } from '../../lib/duration.js';
import { HOST_NAME_PATTERN } from '../../lib/host-name.js';
import { LABEL_KEY_PATTERN, LABEL_VALUE_PATTERN, MAX_LABELS } from '../../lib/labels.js';
import { NAME_PATTERN } from '../../lib/names.js';
import {
  CONTROLLER_KINDS,
  parseAmount,
  ROLLOUT_STATUSES,
  TARGET_STATUSES,
  type Amount,
} from '../../rollout/index.js';

/** The most targets one report may carry. */
export const MAX_REPORTED_TARGETS = 10_000;
/** The longest message a target may report (a failing check's result). */
export const MAX_TARGET_MESSAGE = 1024;
/** A report of many targets is larger than the API's usual 64 KiB. */
export const TARGETS_REPORT_BODY_LIMIT = 2 * 1024 * 1024;

const name = (what: string) =>
  z
    .string()
    .regex(
      NAME_PATTERN,
      `expected ${what} of lowercase letters, digits, "-" or "_" (1 to 63, starting with a letter or digit)`,
    );

export const targetsParamsSchema = z.strictObject({
  namespace: name('a namespace'),
  entity: name('an entity'),
});

const targetName = z
  .string()
  .regex(
    HOST_NAME_PATTERN,
    'expected a target name of 1 to 253 letters, digits, ".", "_" or "-", not starting with "." or "-"',
  );
const labelValue = z.string().regex(LABEL_VALUE_PATTERN, 'expected a value of 1 to 63 of A-Z a-z 0-9 . _ -');
const labels = z
  .record(
    z
      .string()
      .regex(LABEL_KEY_PATTERN, 'expected label keys of a lowercase letter then up to 62 of a-z 0-9 . _ / -'),
    labelValue,
  )
  .refine((value) => Object.keys(value).length <= MAX_LABELS, `expected at most ${MAX_LABELS} labels`);

export const reportedTargetSchema = z
  .strictObject({
    name: targetName,
    version: version
      .nullable()
      .optional()
      .meta({ description: 'The release it runs; null or left out: none.' }),
    isError: z
      .boolean()
      .optional()
      .meta({ description: 'It does not work on its release (unhealthy); false when left out.' }),
    message: z.string().max(MAX_TARGET_MESSAGE).optional(),
    group: labelValue.optional().meta({ description: 'Kept as its label `group`.' }),
    labels: labels.optional(),
    failedVersion: version.optional().meta({
      description: 'Its own deployment of this release failed (and it went back): it fails on it at once.',
    }),
  })
  .meta({ id: 'ReportedTarget' });

export const targetsReportBodySchema = z
  .strictObject({
    targets: z
      .array(reportedTargetSchema)
      .max(MAX_REPORTED_TARGETS)
      .superRefine((targets, ctx) => {
        const first = new Map<string, number>();
        targets.forEach((target, i) => {
          const earlier = first.get(target.name);
          if (earlier === undefined) first.set(target.name, i);
          else
            ctx.addIssue({
              code: 'custom',
              path: [i, 'name'],
              message: `expected each target once, got ${JSON.stringify(target.name)} again (first at targets.${earlier})`,
            });
        });
      }),
  })
  .meta({ id: 'TargetsReportBody' });

/** "10%", "3", 3, or the answers' own form `{percent}` / `{count}`. */
const amount = z
  .unknown()
  .transform((value, ctx): Amount => {
    const parsed = amountOf(value);
    if (parsed === undefined) {
      ctx.addIssue({
        code: 'custom',
        message: `expected a share of the targets like "10%" or a count like 3, got ${describeValue(value)}`,
      });
      return z.NEVER;
    }
    return parsed;
  })
  .meta({
    description: 'A share of the targets: "10%", a count (3), or {"percent": 10} / {"count": 3}.',
    anyOf: [
      { type: 'string', pattern: '^\\s*\\d+%?\\s*$' },
      { type: 'integer', minimum: 1 },
      { type: 'object', properties: { percent: { type: 'integer' } }, required: ['percent'] },
      { type: 'object', properties: { count: { type: 'integer' } }, required: ['count'] },
    ],
  });

function amountOf(value: unknown): Amount | undefined {
  if (typeof value === 'string' || typeof value === 'number') return parseAmount(value);
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
  const keys = Object.keys(value);
  const entry = value as Record<string, unknown>;
  if (keys.length !== 1) return undefined;
  if (typeof entry.percent === 'number') return { percent: entry.percent };
  if (typeof entry.count === 'number') return { count: entry.count };
  return undefined;
}

/** A number of milliseconds, or a duration like "30s". */
const ms = z
  .unknown()
  .transform((value, ctx) => {
    const parsed =
      typeof value === 'number' ? value : typeof value === 'string' ? parseDuration(value) : undefined;
    if (parsed === undefined) {
      ctx.addIssue({
        code: 'custom',
        message: `expected a duration like "30s" or a number of milliseconds, got ${describeValue(value)}`,
      });
      return z.NEVER;
    }
    return parsed;
  })
  .meta({
    description: 'Milliseconds, or a duration like "30s", "2m", "1h".',
    anyOf: [{ type: 'integer', minimum: 0 }, { type: 'string' }],
  });

/** 95 or "95%". */
const wholePercent = z
  .unknown()
  .transform((value, ctx) => {
    const text = typeof value === 'string' ? value.trim().replace(/%$/, '') : undefined;
    const parsed =
      typeof value === 'number' ? value : text !== undefined && /^\d+$/.test(text) ? Number(text) : undefined;
    if (parsed === undefined) {
      ctx.addIssue({
        code: 'custom',
        message: `expected a percent like 95 or "95%", got ${describeValue(value)}`,
      });
      return z.NEVER;
    }
    return parsed;
  })
  .meta({
    description: 'A whole percent, 0-100: 95 or "95%".',
    anyOf: [
      { type: 'integer', minimum: 0, maximum: 100 },
      { type: 'string', pattern: '^\\s*\\d+%?\\s*$' },
    ],
  });

const controllerUrl = z
  .string()
  .max(2048)
  .refine((value) => {
    try {
      const url = new URL(value);
      return url.protocol === 'http:' || url.protocol === 'https:';
    } catch {
      return false;
    }
  }, 'expected an http:// or https:// URL')
  .meta({
    description: 'Where the controller is asked (POST, JSON). May carry credentials: shown redacted.',
  });

const controllerInput = z.strictObject({ url: controllerUrl, timeoutMs: ms.optional() });

export const targetsOptionsInputSchema = z
  .strictObject({
    batch: amount.optional(),
    maxUnavailable: amount.nullable().optional(),
    successPercent: wholePercent.optional(),
    soakMs: ms.optional(),
    deadlineMs: ms.optional(),
    silentAfterMs: ms.optional(),
    unseenAfterMs: ms.optional(),
    canary: z
      .strictObject({ size: amount.optional(), pauseMs: ms.optional(), analysis: z.boolean().optional() })
      .nullable()
      .optional(),
    mode: z.enum(['in-place', 'replace']).optional(),
    controllers: z
      .strictObject({
        selection: controllerInput.nullable().optional(),
        approval: controllerInput
          .extend({ at: z.enum(['start', 'after-canary']).optional() })
          .nullable()
          .optional(),
        targetMonitor: controllerInput.nullable().optional(),
        fleetMonitor: controllerInput.nullable().optional(),
        removal: controllerInput.nullable().optional(),
      })
      .optional(),
  })
  .meta({
    id: 'TargetsOptionsInput',
    description:
      'Changes to the rollout options of the entity (docs/rollouts.md): each field given replaces the one it has, null removes an optional one; they take effect with a deploy that starts a rollout.',
  });

export const targetsDeployBodySchema = z
  .strictObject({
    version,
    /** Supersede a running rollout instead of queueing behind it; deploy the last known bad release. */
    force: z.boolean().optional(),
    options: targetsOptionsInputSchema.optional(),
  })
  .meta({ id: 'TargetsDeployBody' });

export const targetsCommandBodySchema = z
  .strictObject({ command: z.enum(['pause', 'resume', 'abort']) })
  .meta({ id: 'TargetsCommandBody' });

// Answers.

const at = z.number().int().meta({ description: 'ms since the epoch, the server clock.' });
const count = z.number().int().min(0);
const amountView = z.union([z.object({ percent: z.number().int() }), z.object({ count: z.number().int() })]);
const controllerView = z.object({
  url: z.string().meta({ description: 'Without credentials.' }),
  timeoutMs: z.number().int(),
});

export const targetsOptionsSchema = z
  .object({
    batch: amountView,
    maxUnavailable: amountView.nullable(),
    successPercent: z.number().int(),
    soakMs: z.number().int(),
    deadlineMs: z.number().int(),
    silentAfterMs: z.number().int(),
    unseenAfterMs: z.number().int(),
    canary: z.object({ size: amountView, pauseMs: z.number().int(), analysis: z.boolean() }).nullable(),
    mode: z.enum(['in-place', 'replace']),
    controllers: z.object({
      selection: controllerView.nullable(),
      approval: controllerView.extend({ at: z.enum(['start', 'after-canary']) }).nullable(),
      targetMonitor: controllerView.nullable(),
      fleetMonitor: controllerView.nullable(),
      removal: controllerView.nullable(),
    }),
  })
  .meta({ id: 'TargetsOptions', description: 'The rollout options of the entity, in plain units.' });

/** Where a rollout stands, whoever its targets are (the fields after those naming it). */
const rolloutSummaryFields = z.object({
  status: z.enum(ROLLOUT_STATUSES),
  direction: z.enum(['forward', 'back']).meta({ description: 'back: every target returns to lkg.' }),
  rolling: z.string().nullable().meta({ description: 'The release the latest rollout moves to.' }),
  lkg: z.string().nullable().meta({ description: 'Last known good.' }),
  lkb: z.string().nullable().meta({ description: 'Last known bad.' }),
  targetVersion: z.string().nullable().meta({ description: 'The release last asked for.' }),
  queued: z.string().nullable().meta({ description: 'A release waiting for the running rollout to end.' }),
  progress: z.string().meta({ description: 'Where it stands, in one line.' }),
  batch: z
    .object({
      index: z.number().int(),
      of: z.number().int(),
      kind: z.enum(['canary', 'batch', 'rollback']),
      size: count,
      held: z.boolean().meta({ description: 'Some of its targets wait for the max-unavailable budget.' }),
      done: z.boolean(),
    })
    .nullable(),
  counts: z.object({
    total: count,
    done: count,
    failed: count,
    inFlight: count,
    waiting: count,
    unavailable: count,
    silent: count,
  }),
  budget: count.nullable().meta({ description: 'Targets that may be unavailable at once; null: no budget.' }),
  trigger: triggerSchema.nullable().meta({
    description: 'What started the latest rollout; null before the first (or from an older Ferry).',
  }),
  updatedAt: at,
});

export const targetsRolloutSummarySchema = z
  .object({ namespace: z.string(), entity: z.string() })
  .extend(rolloutSummaryFields.shape)
  .meta({ id: 'TargetsRolloutSummary' });

export const targetViewSchema = z
  .object({
    name: z.string(),
    labels: z.record(z.string(), z.string()),
    reported: z.string().nullable().meta({ description: 'The release it last reported running.' }),
    healthy: z.boolean(),
    message: z.string().nullable(),
    assigned: z.string().nullable().meta({ description: 'The release it is told to run.' }),
    assignedAt: at.nullable(),
    status: z.enum(TARGET_STATUSES),
    failure: z.string().nullable(),
    lastSeenAt: at.nullable(),
  })
  .meta({ id: 'ExternalTarget' });

/** A whole rollout, whoever its targets are (after the fields naming it). */
const rolloutFields = rolloutSummaryFields.extend({
  gate: z
    .object({
      kind: z.enum(['approval', 'canary-pause', 'analysis', 'fleet-monitor', 'selection', 'removal']),
      until: at.nullable().meta({ description: 'The end of a canary pause.' }),
    })
    .nullable()
    .meta({ description: 'What the rollout waits for before its next batch.' }),
  ending: z
    .object({ reason: z.enum(['failure', 'abort', 'denied', 'controller']), message: z.string() })
    .nullable(),
  pending: z.array(
    z.object({
      id: z.string(),
      controller: z.enum(CONTROLLER_KINDS),
      deadline: at,
      target: z.string().nullable(),
    }),
  ),
  options: targetsOptionsSchema,
  targets: z.array(targetViewSchema),
  decisions: z
    .array(z.object({ at, kind: z.string(), message: z.string() }))
    .meta({ description: 'The last decisions, oldest first.' }),
  verdicts: z
    .array(z.object({ version: z.string(), verdict: z.enum(['good', 'bad']), reason: z.string(), at }))
    .meta({ description: 'The releases judged, in the order they were.' }),
});

export const targetsRolloutSchema = z
  .object({ namespace: z.string(), entity: z.string() })
  .extend(rolloutFields.shape)
  .meta({ id: 'TargetsRollout' });

/**
 * The rollout of an app across the enrolled hosts of an environment (`hosts:` in ferry.yaml): the
 * same rollout as targets outside Ferry have, its targets the hosts by id.
 */
export const fleetRolloutSchema = z
  .object({ app: z.string(), env: z.string() })
  .extend(rolloutFields.shape)
  .meta({ id: 'FleetRollout' });

export const targetsReportResponseSchema = z
  .object({
    targets: z
      .array(
        z.object({
          name: z.string(),
          version: z.string().nullable().meta({
            description: 'The release it should run; null: none decided yet (keep what runs), or removed.',
          }),
          status: z.enum(TARGET_STATUSES),
        }),
      )
      .meta({ description: 'Each reported target, in the order reported.' }),
    rollout: targetsRolloutSummarySchema,
  })
  .meta({ id: 'TargetsReportResponse' });

export const targetsRolloutResponseSchema = z
  .object({ rollout: targetsRolloutSchema })
  .meta({ id: 'TargetsRolloutResponse' });

export const targetsListResponseSchema = z
  .object({ rollouts: z.array(targetsRolloutSummarySchema) })
  .meta({ id: 'TargetsListResponse', description: 'Every namespace and entity, in order.' });
