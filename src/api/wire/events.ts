/**
 * The event streams as they go over the wire: the global one (GET /v1/events) and a deployment's
 * (GET /v1/deployments/:id/events). See deployment.ts for why schemas.
 */
import { z } from 'zod';
import { HEALTH_STATUSES } from '../../health/types.js';
import { deploymentEventSchema, deploymentSchema } from './deployment.js';
import { ROLLOUT_STATUSES } from '../../rollout/index.js';
import { triggerSchema } from './trigger.js';
import { INSTANCE_CHANGES, ROUTER_CHANGES } from '../../protocol/report.js';

const ms = z.number().int();

/** What every published event carries: its stream id (`id:` of the SSE event), order and time. */
const published = {
  id: z.string().meta({ description: 'Opaque; send it back as Last-Event-ID to resume after it.' }),
  seq: z.number().int().min(1).meta({ description: "Order within the daemon's run (1, 2, 3...)." }),
  at: ms,
};
/** Events of one app in one environment. */
const ofApp = { ...published, app: z.string(), env: z.string() };
/** The enrolled host an instance runs on, by name; absent: the server's own host. */
const onHost = z
  .string()
  .optional()
  .meta({ description: "The enrolled host it runs on, by name; absent: the server's own host." });
/** Events of the host as a whole (they pass every ?app= and ?env= filter). */
const ofHost = { ...published, app: z.null(), env: z.null() };

/**
 * A lock taken (or renewed), released or expired; a deploy queued behind one, started once no lock
 * held it, or refused then.
 */
export const LOCK_CHANGES = [
  'locked',
  'unlocked',
  'expired',
  'queued',
  'queue-started',
  'queue-failed',
] as const;
/**
 * What the release intake did with a release: recorded it in the catalog (env null), started its
 * deployment, queued it behind a lock, kept it waiting (a window, a debounce), or skipped it.
 */
export const RELEASE_CHANGES = ['recorded', 'deploying', 'queued', 'waiting', 'skipped'] as const;
/** Where an applied configuration came from: the daemon's start, `ferry apply`, SIGHUP. */
export const CONFIG_SOURCES = ['start', 'apply', 'reload'] as const;

export const ferryEventSchema = z
  .discriminatedUnion('kind', [
    z.object({ ...ofApp, kind: z.literal('deployment'), deployment: deploymentSchema }),
    z.object({ ...ofApp, kind: z.literal('deployment-event'), event: deploymentEventSchema }),
    z.object({
      ...ofApp,
      kind: z.literal('instance'),
      host: onHost,
      instance: z.string(),
      version: z.string(),
      state: z.enum(INSTANCE_CHANGES),
      pid: z.number().int().nullable(),
      restarts: z.number().int().min(0),
      detail: z.string().nullable(),
    }),
    z.object({
      ...ofApp,
      kind: z.literal('health'),
      host: onHost,
      instance: z.string(),
      version: z.string(),
      health: z.enum(HEALTH_STATUSES),
      detail: z.string().nullable(),
    }),
    z.object({
      ...ofHost,
      kind: z.literal('router'),
      host: onHost,
      change: z.enum(ROUTER_CHANGES),
      pid: z.number().int().nullable(),
      message: z.string(),
    }),
    z.object({
      ...published,
      app: z.string().nullable().meta({ description: "null: the environment's lock (every app of it)." }),
      env: z.string(),
      kind: z.literal('lock'),
      change: z.enum(LOCK_CHANGES),
      message: z.string(),
    }),
    z.object({
      ...published,
      app: z.string(),
      env: z.string().nullable().meta({ description: 'null: the release was recorded for the app.' }),
      kind: z.literal('release'),
      change: z.enum(RELEASE_CHANGES),
      version: z.string(),
      trigger: triggerSchema,
      message: z.string(),
    }),
    z.object({
      ...ofApp,
      kind: z.literal('rollout'),
      decision: z.string().meta({
        description:
          'What the rollout across hosts decided: rollout-started, batch-started, batch-done, target-failed, release-good, release-bad, returning, rollout-ended...',
      }),
      status: z.enum(ROLLOUT_STATUSES),
      version: z.string().nullable().meta({ description: 'The release the rollout moves to.' }),
      lkg: z.string().nullable().meta({ description: 'The last known good release.' }),
      reason: z
        .string()
        .nullable()
        .meta({ description: 'Why the rollout returns (or returned) to last known good; null otherwise.' }),
      message: z.string(),
    }),
    z.object({
      ...ofHost,
      kind: z.literal('config'),
      source: z.enum(CONFIG_SOURCES),
      path: z.string().nullable(),
      apps: z.array(z.string()),
      message: z.string(),
    }),
  ])
  .meta({ id: 'FerryEvent', description: 'One event of the global stream (docs/api.md#events).' });

/** Said instead of replaying when the events after a Last-Event-ID are no longer all kept. */
export const eventGapSchema = z
  .object({
    kind: z.literal('gap'),
    lastEventId: z.string(),
    reason: z.enum(['expired', 'restarted', 'unknown']),
    /** The oldest event still kept (replayed next), null when none is. */
    oldest: z.string().nullable(),
    message: z.string(),
  })
  .meta({ id: 'EventGap', description: 'Events after lastEventId were lost to this stream.' });

export const eventStreamMessageSchema = z
  .union([ferryEventSchema, eventGapSchema])
  .meta({ id: 'EventStreamMessage', description: 'The data of one server-sent event of GET /v1/events.' });

export const deploymentStreamMessageSchema = z
  .discriminatedUnion('kind', [
    z.object({ kind: z.literal('event'), event: deploymentEventSchema }),
    z.object({ kind: z.literal('state'), deployment: deploymentSchema }),
  ])
  .meta({
    id: 'DeploymentStreamMessage',
    description: 'The data of one server-sent event of GET /v1/deployments/{id}/events.',
  });
