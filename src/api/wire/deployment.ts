/**
 * The API's deployments, their events and the release ledger as they go over the wire. The
 * TypeScript types of src/api/types.ts are derived from these schemas, and so is the OpenAPI
 * document (src/api/openapi.ts): one description of each shape.
 */
import { z } from 'zod';
import { servedReportSchema } from './served.js';
import { triggerSchema } from './trigger.js';
import { DEPLOYMENT_KINDS, DEPLOYMENT_STATUSES, PHASES } from '../../engine/types.js';
import { RELEASE_STATUSES } from '../../store/store.js';

/** Milliseconds, or a moment in ms since the epoch. */
const ms = z.number().int();
const count = z.number().int().min(0);

export const canaryStepSchema = z.object({
  /** Percent of the requests for the new release. */
  weight: z.number(),
  pauseMs: ms,
});

export const analysisSchema = z.object({
  maxErrorRate: z.number().min(0).max(1),
  minRequests: count,
  maxWaitMs: ms,
  inconclusive: z.enum(['pause', 'fail']),
});

export const strategySchema = z
  .discriminatedUnion('kind', [
    z.object({ kind: z.literal('blue-green'), healthDeadlineMs: ms }),
    z.object({
      kind: z.literal('canary'),
      healthDeadlineMs: ms,
      steps: z.array(canaryStepSchema),
      analysis: analysisSchema,
    }),
    z.object({ kind: z.literal('all-at-once'), healthDeadlineMs: ms }),
  ])
  .meta({ id: 'Strategy', description: 'How the deployment moves traffic.' });

export const trafficWindowSchema = z.object({ requests: count, errors: count }).meta({
  id: 'TrafficWindow',
  description:
    'Router counters of an analysis window: requests, and of them 5xx responses plus connection errors.',
});

export const failureSchema = z
  .object({
    code: z.string(),
    message: z.string(),
    evidence: z
      .object({
        health: z.string().optional(),
        logTail: z.array(z.string()).optional(),
        traffic: trafficWindowSchema.optional(),
        instanceId: z.string().optional(),
      })
      .optional(),
  })
  .meta({
    id: 'Failure',
    description: 'Why a deployment failed or an effect is retried, with its evidence.',
  });

export const replaceSchema = z
  .object({
    old: z.array(z.string()).meta({ description: "The release's instances when the restart began." }),
    batchSize: count.meta({ description: 'Instances started (then old ones retired) per batch.' }),
    batch: count.meta({ description: 'The batch under way, from 0.' }),
    retiring: z
      .boolean()
      .meta({ description: "The batch's new instances are healthy and its old ones drain." }),
  })
  .meta({
    id: 'Replace',
    description: "How far a restart got: its batches of the serving release's instances.",
  });

export const deploymentSchema = z
  .object({
    id: z.string(),
    app: z.string(),
    env: z.string(),
    kind: z.enum(DEPLOYMENT_KINDS),
    from: z.string().nullable(),
    to: z.string(),
    strategy: strategySchema,
    instances: count,
    status: z.enum(DEPLOYMENT_STATUSES),
    phase: z.enum(PHASES),
    phaseSince: ms,
    step: count,
    weight: z.number(),
    weightOverride: z.object({ actor: z.string(), at: ms }).nullable(),
    pausedRemainingMs: ms.nullable(),
    failure: failureSchema.nullable(),
    revertReason: z.enum(['failure', 'abort']).nullable(),
    trafficRestored: z.boolean(),
    afterSwitchHook: z.boolean(),
    waitingForTraffic: z.boolean(),
    pauseReason: z
      .discriminatedUnion('kind', [
        z.object({ kind: z.literal('request') }),
        z.object({ kind: z.literal('inconclusive'), traffic: trafficWindowSchema.nullable() }),
      ])
      .nullable(),
    retry: z.object({ attempt: count, at: ms.nullable(), failure: failureSchema }).nullable(),
    replace: replaceSchema
      .nullable()
      .meta({ description: "A restart's batches; null for another deployment." }),
    trigger: triggerSchema
      .nullable()
      .meta({ description: 'What started it; null for a deployment stored before Ferry kept this.' }),
    createdAt: ms,
    updatedAt: ms,
    /** A one-line summary: "canary step 2/3 at 50%". */
    progress: z.string(),
    served: servedReportSchema
      .nullable()
      .optional()
      .meta({ description: 'The served-request report; null when none was kept (an older deployment).' }),
  })
  .meta({ id: 'Deployment', description: 'A deployment: docs/api.md#a-deployment.' });

export const deploymentEventSchema = z
  .object({
    deploymentId: z.string(),
    /** 1, 2, 3... per deployment. */
    seq: z.number().int().min(1),
    at: ms,
    /** phase, record, command, failure, effect. */
    type: z.string(),
    message: z.string(),
    data: z.record(z.string(), z.unknown()).optional(),
  })
  .meta({ id: 'DeploymentEvent', description: "One entry of a deployment's event log." });

export const releaseSchema = z
  .object({
    app: z.string(),
    env: z.string(),
    version: z.string(),
    artifactUrl: z.string(),
    checksum: z.string().nullable(),
    status: z.enum(RELEASE_STATUSES),
    reason: z.string().nullable(),
    goodAt: ms.nullable(),
    createdAt: ms,
    updatedAt: ms,
  })
  .meta({
    id: 'Release',
    description: 'A release in the ledger: docs/api.md#a-release-the-ledger-in-history.',
  });
