/**
 * Every route of the API, with the schemas its requests are validated with and its answers are
 * described by. The server registers exactly these routes (a handler per operation, checked by the
 * compiler) and the OpenAPI document is generated from this table: nothing is documented twice.
 */
import type { z } from 'zod';
import { configApplyResponseSchema, configPlanSchema } from './wire/config.js';
import { deploymentStreamMessageSchema, eventStreamMessageSchema } from './wire/events.js';
import {
  appParamsSchema,
  canaryBodySchema,
  commandBodySchema,
  commandParamsSchema,
  configBodySchema,
  deployBodySchema,
  eventsQuerySchema,
  historyQuerySchema,
  rolloutQuerySchema,
  hostParamsSchema,
  idParamsSchema,
  joinTokenCreateBodySchema,
  logsQuerySchema,
  restartBodySchema,
  rollbackBodySchema,
  statusQuerySchema,
} from './wire/requests.js';
import {
  commandResponseSchema,
  deployResponseSchema,
  rolloutResponseSchema,
  deploymentDetailResponseSchema,
  deploymentResponseSchema,
  restartResponseSchema,
  rollbackResponseSchema,
  healthzResponseSchema,
  historyResponseSchema,
  logLineSchema,
  logsResponseSchema,
} from './wire/responses.js';
import { hostRevokeResponseSchema, hostsResponseSchema } from './wire/hosts.js';
import {
  joinTokenCreateResponseSchema,
  joinTokenRevokeResponseSchema,
  joinTokensResponseSchema,
} from './wire/join-tokens.js';
import {
  lockBodySchema,
  lockResponseSchema,
  locksQuerySchema,
  locksResponseSchema,
  unlockBodySchema,
  unlockResponseSchema,
} from './wire/locks.js';
import {
  releaseAddBodySchema,
  releaseAddResponseSchema,
  releasesQuerySchema,
  releasesResponseSchema,
} from './wire/releases.js';
import { statusResponseSchema } from './wire/status.js';
import {
  TARGETS_REPORT_BODY_LIMIT,
  targetsCommandBodySchema,
  targetsDeployBodySchema,
  targetsListResponseSchema,
  targetsParamsSchema,
  targetsReportBodySchema,
  targetsReportResponseSchema,
  targetsRolloutResponseSchema,
} from './wire/targets.js';

/** One answer of a route: JSON, a server-sent event stream (the schema of each event's data), or text. */
export type RouteAnswer =
  | { readonly json: z.ZodType; readonly description: string }
  | { readonly events: z.ZodType; readonly json?: z.ZodType; readonly description: string }
  | { readonly text: string; readonly description: string };

export interface ApiRoute {
  readonly method: 'GET' | 'POST';
  /** In fastify's form, `/v1/apps/:app/history`. */
  readonly url: string;
  readonly summary: string;
  /** False only for /healthz: every other route needs the token. */
  readonly token: boolean;
  readonly params?: z.ZodType;
  readonly query?: z.ZodType;
  readonly body?: z.ZodType;
  /** The largest body taken, in bytes, when more than the API's 64 KiB. */
  readonly bodyLimit?: number;
  /** The answers when all goes well, by status; errors answer the error envelope. */
  readonly answers: Readonly<Record<number, RouteAnswer>>;
}

/** A configuration file sent to plan or apply may be larger than any other request. */
export const CONFIG_BODY_LIMIT = 1024 * 1024;

export const API_ROUTES = {
  healthz: {
    method: 'GET',
    url: '/healthz',
    summary: 'Whether the daemon serves: 200 running, 503 while it starts',
    token: false,
    answers: {
      200: { json: healthzResponseSchema, description: 'The daemon serves.' },
      503: { json: healthzResponseSchema, description: 'The daemon is starting.' },
    },
  },
  status: {
    method: 'GET',
    url: '/v1/status',
    summary: 'The daemon, the router and every app in every environment',
    token: true,
    query: statusQuerySchema,
    answers: { 200: { json: statusResponseSchema, description: 'The status.' } },
  },
  deploy: {
    method: 'POST',
    url: '/v1/deployments',
    summary: 'Deploys a release of an app (or, with queue, queues it behind the lock that holds the app)',
    token: true,
    body: deployBodySchema,
    answers: {
      202: {
        json: deployResponseSchema,
        description: 'The deployment started (`deployment`), or was queued behind a lock (`queued`).',
      },
    },
  },
  rollback: {
    method: 'POST',
    url: '/v1/rollbacks',
    summary: 'Rolls an app back to its last good release (or `to`)',
    token: true,
    body: rollbackBodySchema,
    answers: {
      202: {
        json: rollbackResponseSchema,
        description: 'The rollback started: a deployment here, or a rollout across enrolled hosts.',
      },
    },
  },
  canary: {
    method: 'POST',
    url: '/v1/apps/:app/canary',
    summary: "Sets the running canary step's share of the requests; the step starts over at it",
    token: true,
    params: appParamsSchema,
    body: canaryBodySchema,
    answers: { 200: { json: deploymentResponseSchema, description: 'The deployment at its new share.' } },
  },
  restart: {
    method: 'POST',
    url: '/v1/apps/:app/restart',
    summary:
      "Replaces the serving release's instances batch by batch, each batch healthy before old ones drain",
    token: true,
    params: appParamsSchema,
    body: restartBodySchema,
    answers: {
      202: {
        json: restartResponseSchema,
        description: "The restart started: on this host, or across the environment's enrolled hosts.",
      },
    },
  },
  configPlan: {
    method: 'POST',
    url: '/v1/config/plan',
    summary: 'What applying a configuration would do; changes nothing',
    token: true,
    body: configBodySchema,
    bodyLimit: CONFIG_BODY_LIMIT,
    answers: { 200: { json: configPlanSchema, description: 'The plan.' } },
  },
  configApply: {
    method: 'POST',
    url: '/v1/config/apply',
    summary: 'Applies a configuration (ferry apply): its plan, and the deployments it started',
    token: true,
    body: configBodySchema,
    bodyLimit: CONFIG_BODY_LIMIT,
    answers: {
      200: { json: configApplyResponseSchema, description: 'The plan applied and its deployments.' },
    },
  },
  command: {
    method: 'POST',
    url: '/v1/apps/:app/:command',
    summary: "Pauses, resumes, promotes or aborts the app's running deployment",
    token: true,
    params: commandParamsSchema,
    body: commandBodySchema,
    answers: {
      200: {
        json: commandResponseSchema,
        description:
          'The deployment after the command; for an environment on enrolled hosts (pause, resume, abort), its rollout.',
      },
    },
  },
  deployment: {
    method: 'GET',
    url: '/v1/deployments/:id',
    summary: 'A deployment and its event log',
    token: true,
    params: idParamsSchema,
    answers: { 200: { json: deploymentDetailResponseSchema, description: 'The deployment.' } },
  },
  deploymentEvents: {
    method: 'GET',
    url: '/v1/deployments/:id/events',
    summary: "A deployment's events (past ones first) and states, until it is final (Last-Event-ID resumes)",
    token: true,
    params: idParamsSchema,
    answers: {
      200: { events: deploymentStreamMessageSchema, description: 'Server-sent events.' },
    },
  },
  events: {
    method: 'GET',
    url: '/v1/events',
    summary:
      'Every deployment event, instance and health change, router restart and config apply (Last-Event-ID resumes)',
    token: true,
    query: eventsQuerySchema,
    answers: { 200: { events: eventStreamMessageSchema, description: 'Server-sent events.' } },
  },
  lock: {
    method: 'POST',
    url: '/v1/locks',
    summary:
      'Locks an environment, or an app in it: its deploys and restarts are refused until it is released or expires',
    token: true,
    body: lockBodySchema,
    answers: { 200: { json: lockResponseSchema, description: 'The lock (and the one it renewed).' } },
  },
  unlock: {
    method: 'POST',
    url: '/v1/locks/unlock',
    summary: 'Releases the lock of an environment, or of an app in it; deploys queued behind it start',
    token: true,
    body: unlockBodySchema,
    answers: { 200: { json: unlockResponseSchema, description: 'The lock released.' } },
  },
  locks: {
    method: 'GET',
    url: '/v1/locks',
    summary: 'The locks that hold now and the deploys queued behind them',
    token: true,
    query: locksQuerySchema,
    answers: { 200: { json: locksResponseSchema, description: 'The locks and queued deploys.' } },
  },
  hosts: {
    method: 'GET',
    url: '/v1/hosts',
    summary: 'The hosts and their agents: last seen, labels, revisions, what each runs',
    token: true,
    answers: { 200: { json: hostsResponseSchema, description: 'The hosts.' } },
  },
  revokeHost: {
    method: 'POST',
    url: '/v1/hosts/:host/revoke',
    summary: "Revokes an enrolled host (by id or name): its agent's credential is refused from then on",
    token: true,
    params: hostParamsSchema,
    answers: { 200: { json: hostRevokeResponseSchema, description: 'The host, revoked.' } },
  },
  createJoinToken: {
    method: 'POST',
    url: '/v1/join-tokens',
    summary: 'Creates a join token that enrolls agents; the token is in this answer only',
    token: true,
    body: joinTokenCreateBodySchema,
    answers: { 201: { json: joinTokenCreateResponseSchema, description: 'The token, shown this once.' } },
  },
  joinTokens: {
    method: 'GET',
    url: '/v1/join-tokens',
    summary: 'The join tokens (without their secret): uses left, expiry, labels, state',
    token: true,
    answers: { 200: { json: joinTokensResponseSchema, description: 'The join tokens.' } },
  },
  revokeJoinToken: {
    method: 'POST',
    url: '/v1/join-tokens/:id/revoke',
    summary: 'Revokes (deletes) a join token: it enrolls no one after this',
    token: true,
    params: idParamsSchema,
    answers: { 200: { json: joinTokenRevokeResponseSchema, description: 'The join token, revoked.' } },
  },
  rollout: {
    method: 'GET',
    url: '/v1/apps/:app/rollout',
    summary: "An app's rollout across the enrolled hosts of an environment (one with hosts: in ferry.yaml)",
    token: true,
    params: appParamsSchema,
    query: rolloutQuerySchema,
    answers: {
      200: { json: rolloutResponseSchema, description: 'The rollout, batch by batch and host by host.' },
    },
  },
  history: {
    method: 'GET',
    url: '/v1/apps/:app/history',
    summary: "An app's deployments (newest first) and its release ledger",
    token: true,
    params: appParamsSchema,
    query: historyQuerySchema,
    answers: { 200: { json: historyResponseSchema, description: 'The history.' } },
  },
  addRelease: {
    method: 'POST',
    url: '/v1/apps/:app/releases',
    summary:
      "Records a release by hand and deploys it where the app's policies allow (deploy: false records it only)",
    token: true,
    params: appParamsSchema,
    body: releaseAddBodySchema,
    answers: {
      201: {
        json: releaseAddResponseSchema,
        description: 'The release as recorded, and what the intake did in each environment.',
      },
    },
  },
  releases: {
    method: 'GET',
    url: '/v1/apps/:app/releases',
    summary: "An app's releases (newest first), each with its ledger status per environment",
    token: true,
    params: appParamsSchema,
    query: releasesQuerySchema,
    answers: { 200: { json: releasesResponseSchema, description: 'The releases.' } },
  },
  logs: {
    method: 'GET',
    url: '/v1/apps/:app/logs',
    summary: "The last lines of an app's instances; follow=1 streams new ones",
    token: true,
    params: appParamsSchema,
    query: logsQuerySchema,
    answers: {
      200: {
        json: logsResponseSchema,
        events: logLineSchema,
        description: 'The lines as JSON, or (follow=1) as server-sent events.',
      },
    },
  },
  targetsReport: {
    method: 'POST',
    url: '/v1/targets/:namespace/:entity/report',
    summary:
      "Reports the targets of an entity outside Ferry; answers the release each should run (nixmade's Orchestrate)",
    token: true,
    params: targetsParamsSchema,
    body: targetsReportBodySchema,
    bodyLimit: TARGETS_REPORT_BODY_LIMIT,
    answers: {
      200: { json: targetsReportResponseSchema, description: 'The release of each target, and the rollout.' },
    },
  },
  targetsDeploy: {
    method: 'POST',
    url: '/v1/targets/:namespace/:entity/deploy',
    summary: "Rolls a release out over an entity's targets (queued behind a running rollout unless forced)",
    token: true,
    params: targetsParamsSchema,
    body: targetsDeployBodySchema,
    answers: { 202: { json: targetsRolloutResponseSchema, description: 'The rollout after the deploy.' } },
  },
  targetsCommand: {
    method: 'POST',
    url: '/v1/targets/:namespace/:entity/command',
    summary: "Pauses, resumes or aborts an entity's rollout",
    token: true,
    params: targetsParamsSchema,
    body: targetsCommandBodySchema,
    answers: { 200: { json: targetsRolloutResponseSchema, description: 'The rollout after the command.' } },
  },
  targetsRollout: {
    method: 'GET',
    url: '/v1/targets/:namespace/:entity',
    summary: "An entity's rollout: status, batches, last known good and bad, its targets, its decisions",
    token: true,
    params: targetsParamsSchema,
    answers: { 200: { json: targetsRolloutResponseSchema, description: 'The rollout.' } },
  },
  targetsList: {
    method: 'GET',
    url: '/v1/targets',
    summary: 'Every namespace and entity of targets outside Ferry, with where its rollout stands',
    token: true,
    answers: { 200: { json: targetsListResponseSchema, description: 'The rollouts.' } },
  },
  openapi: {
    method: 'GET',
    url: '/v1/openapi.json',
    summary: 'This document',
    token: true,
    answers: { 200: { text: 'application/json', description: 'The OpenAPI 3.1 document of the API.' } },
  },
  metrics: {
    method: 'GET',
    url: '/metrics',
    summary: 'Prometheus metrics (docs/metrics.md); also on metrics.listen without a token',
    token: true,
    answers: {
      200: { text: 'text/plain; version=0.0.4', description: 'The Prometheus text exposition format.' },
    },
  },
} as const satisfies Record<string, ApiRoute>;

export type OperationId = keyof typeof API_ROUTES;
