/** The API's answers besides the status (see deployment.ts for why schemas). */
import { z } from 'zod';
import { deploymentEventSchema, deploymentSchema, releaseSchema } from './deployment.js';
import { queuedResponseSchema } from './locks.js';
import { fleetRestartResponseSchema } from './fleet-restart.js';
import { fleetRolloutSchema } from './targets.js';

export const healthzResponseSchema = z
  .object({ ok: z.boolean(), state: z.enum(['running', 'starting']) })
  .meta({ id: 'HealthzResponse' });

export const deploymentResponseSchema = z
  .object({ deployment: deploymentSchema })
  .meta({ id: 'DeploymentResponse' });

/** An environment on enrolled hosts: its rollout across them. */
export const rolloutResponseSchema = z
  .object({ rollout: fleetRolloutSchema })
  .meta({ id: 'RolloutResponse' });

/** `dryRun: true` for an environment on enrolled hosts: what the rollout would do. Nothing changed. */
export const rolloutPlanResponseSchema = z
  .object({
    plan: z.object({
      app: z.string(),
      env: z.string(),
      version: z.string(),
      from: z.string().nullable(),
      targets: z.number().int(),
      batchSize: z.number().int(),
      budget: z.number().int().nullable(),
      successThreshold: z.number().int(),
      failureThreshold: z.number().int(),
      text: z.string().meta({ description: 'The plan as `ferry deploy --dry-run` prints it.' }),
    }),
  })
  .meta({ id: 'RolloutPlanResponse' });

/**
 * POST /v1/deployments: the deployment started, or (queue: true, a lock holding the app) the deploy
 * queued, or (an environment on enrolled hosts) the rollout across its hosts.
 */
export const deployResponseSchema = z
  .union([deploymentResponseSchema, queuedResponseSchema, rolloutResponseSchema, rolloutPlanResponseSchema])
  .meta({ id: 'DeployResponse' });

/** POST /v1/apps/:app/restart: the restart on this host, or (enrolled hosts) the restart across them. */
export const restartResponseSchema = z
  .union([deploymentResponseSchema, fleetRestartResponseSchema])
  .meta({ id: 'RestartResponse' });

/** POST /v1/rollbacks: the rollback on this host, or (enrolled hosts) the rollout back across them. */
export const rollbackResponseSchema = z
  .union([deploymentResponseSchema, rolloutResponseSchema])
  .meta({ id: 'RollbackResponse' });

/** A command steers the deployment on this host, or the rollout across an environment's hosts. */
export const commandResponseSchema = z
  .union([deploymentResponseSchema, rolloutResponseSchema])
  .meta({ id: 'CommandResponse' });

export const deploymentDetailResponseSchema = z
  .object({ deployment: deploymentSchema, events: z.array(deploymentEventSchema) })
  .meta({ id: 'DeploymentDetailResponse' });

export const historyResponseSchema = z
  .object({ deployments: z.array(deploymentSchema), releases: z.array(releaseSchema) })
  .meta({ id: 'HistoryResponse', description: 'Newest first; the release ledger.' });

export const logLineSchema = z
  .object({
    host: z
      .string()
      .optional()
      .meta({ description: 'An environment on enrolled hosts: the name of the host the line comes from.' }),
    instance: z.string(),
    version: z.string(),
    line: z.string(),
    at: z.number().optional().meta({
      description:
        'When the daemon read the line (ms since the epoch): on followed lines only; an instance writes its output without times.',
    }),
  })
  .meta({ id: 'LogLine' });

export const logsResponseSchema = z.object({ lines: z.array(logLineSchema) }).meta({ id: 'LogsResponse' });

export const errorResponseSchema = z
  .object({
    error: z.object({
      code: z.string().meta({ description: 'A code of the error catalog (docs/errors.md).' }),
      message: z.string(),
      details: z.record(z.string(), z.unknown()).optional(),
    }),
  })
  .meta({ id: 'ErrorResponse' });
