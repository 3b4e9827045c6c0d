/** The API's status answer as it goes over the wire (see deployment.ts for why schemas). */
import { z } from 'zod';
import { fleetRestartSchema } from './fleet-restart.js';
import { fleetRolloutSchema } from './targets.js';
import { deploymentSchema } from './deployment.js';
import { lockSchema, queuedDeploySchema } from './locks.js';
import { triggerSchema } from './trigger.js';

const ms = z.number().int();
const count = z.number().int().min(0);

export const instanceViewSchema = z
  .object({
    id: z.string(),
    version: z.string(),
    port: z.number().int(),
    pid: z.number().int().nullable(),
    state: z
      .string()
      .meta({ description: 'Process state: starting, running, crashed, crash-loop, retiring.' }),
    health: z.string().meta({ description: 'starting, healthy or unhealthy.' }),
    lastFailure: z.string().nullable(),
    // The process view (as `pm2 ls`).
    uptimeMs: z
      .number()
      .nullable()
      .optional()
      .meta({ description: 'Since its process started; null when it does not run.' }),
    restarts: count.optional().meta({ description: 'Times the supervisor restarted it after a crash.' }),
    lastExit: z
      .object({ code: z.number().int().nullable(), signal: z.string().nullable(), at: ms })
      .nullable()
      .optional()
      .meta({
        description:
          'How its process last ended: exit code or signal (both null: an adopted process, status unknown) and when; null if never.',
      }),
    cpuPercent: z.number().nullable().optional().meta({
      description: 'Percent of one CPU over the last sampling interval (2 s); null until sampled twice.',
    }),
    memoryBytes: z
      .number()
      .int()
      .nullable()
      .optional()
      .meta({ description: 'Resident memory (RSS) of its process, in bytes; null when it does not run.' }),
  })
  .meta({ id: 'Instance', description: 'One running process of a release.' });

export const canaryLiveSchema = z
  .object({
    step: count,
    weight: z.number(),
    since: ms.nullable(),
    releases: z.array(
      z.object({
        version: z.string(),
        role: z.enum(['canary', 'stable']),
        weight: z.number(),
        requests: count.nullable(),
        errors: count.nullable(),
        healthy: count,
        instances: count,
      }),
    ),
    error: z.string().nullable(),
  })
  .meta({
    id: 'CanaryLive',
    description: "The running canary step's analysis window so far, per release (the canary first).",
  });

export const appStatusSchema = z
  .object({
    app: z.string(),
    env: z.string(),
    current: z.string().nullable(),
    listen: z.string(),
    instances: z.array(instanceViewSchema),
    deployment: deploymentSchema.nullable().meta({ description: 'The running deployment, or the last one.' }),
    canary: canaryLiveSchema.nullable().optional(),
    inConfig: z.boolean().optional().meta({
      description:
        'False for an app that left ferry.yaml but keeps running (ferry apply without prune); absent from an older daemon.',
    }),
    locks: z.array(lockSchema).optional().meta({
      description:
        "The locks that hold the app here: its environment's, then its own. Absent from an older daemon.",
    }),
    queued: queuedDeploySchema.nullable().optional().meta({
      description:
        'The deploy queued behind a lock (or one that could not start once released, since the last deployment began).',
    }),
  })
  .meta({ id: 'AppStatus', description: 'One app in one environment.' });

export const routerStatusSchema = z
  .object({
    state: z.string().meta({ description: 'running, restarting or down.' }),
    pid: z.number().int().nullable(),
    version: z.string().nullable(),
    uptimeMs: ms.nullable(),
    restarts: count,
    workers: z.array(
      z.object({
        pid: z.number().int().nullable(),
        state: z.string(),
        uptimeMs: ms.nullable(),
        restarts: count,
        crashLoop: z.boolean(),
      }),
    ),
    spare: z.object({ pid: z.number().int().nullable(), state: z.string() }).nullable().optional(),
    error: z.string().nullable(),
  })
  .meta({ id: 'RouterStatus', description: 'The router process tree: keeper, workers, spare, restarts.' });

export const waitingReleaseSchema = z
  .object({
    app: z.string(),
    env: z.string(),
    version: z.string(),
    trigger: triggerSchema,
    since: ms.meta({ description: 'When the last release of its burst arrived.' }),
    reason: z.string().nullable(),
    until: ms.nullable().meta({ description: 'When it is decided again; null when unknown.' }),
  })
  .meta({
    id: 'WaitingRelease',
    description:
      "A release the intake keeps waiting in an environment: outside the policy's deployment windows, in its debounce, or a deploy refused for now (tried again with backoff).",
  });

export const statusResponseSchema = z
  .object({
    daemon: z.object({
      pid: z.number().int(),
      version: z.string(),
      uptimeMs: ms,
      routerPid: z.number().int().nullable(),
    }),
    router: routerStatusSchema,
    apps: z.array(appStatusSchema),
    rollouts: z
      .array(fleetRolloutSchema)
      .meta({ description: 'Apps in environments on enrolled hosts: each rollout across its hosts.' }),
    restarts: z
      .array(fleetRestartSchema)
      .optional()
      .meta({ description: 'Apps in environments on enrolled hosts: the last restart across its hosts.' }),
    waiting: z
      .array(waitingReleaseSchema)
      .optional()
      .meta({ description: 'Releases waiting to deploy by themselves. Absent from an older daemon.' }),
  })
  .meta({ id: 'StatusResponse' });
