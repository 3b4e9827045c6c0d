/**
 * The HTTP API's request and response shapes. The CLI and the UI speak only these types. Each is
 * derived from its zod schema in ./wire/, the same schemas that validate requests and generate the
 * OpenAPI document (GET /v1/openapi.json), so the code, the document and docs/api.md cannot drift.
 * This module loads no schema at run time (type imports only): the CLI stays light.
 */
import type { z } from 'zod';
import type { StrategyKind } from '../engine/types.js';
import type { deploymentEventSchema, deploymentSchema, releaseSchema } from './wire/deployment.js';
import type {
  enrolledHostSchema,
  hostRevokeResponseSchema,
  hostsResponseSchema,
  hostViewSchema,
} from './wire/hosts.js';
import type {
  joinTokenCreateResponseSchema,
  joinTokenRevokeResponseSchema,
  joinTokenSchema,
  joinTokensResponseSchema,
} from './wire/join-tokens.js';
import type {
  lockBodySchema,
  lockResponseSchema,
  lockSchema,
  locksResponseSchema,
  queuedDeploySchema,
  queuedResponseSchema,
  unlockBodySchema,
  unlockResponseSchema,
} from './wire/locks.js';
import type { servedReportSchema } from './wire/served.js';
import type {
  catalogEntrySchema,
  catalogReleaseSchema,
  intakeOutcomeSchema,
  releaseAddBodySchema,
  releaseAddResponseSchema,
  releaseEnvStatusSchema,
  releasesResponseSchema,
} from './wire/releases.js';
import type { triggerSchema } from './wire/trigger.js';
import type {
  deploymentStreamMessageSchema,
  eventGapSchema,
  eventStreamMessageSchema,
  ferryEventSchema,
} from './wire/events.js';
import type {
  canaryBodySchema,
  commandBodySchema,
  configBodySchema,
  deployBodySchema,
  joinTokenCreateBodySchema,
  restartBodySchema,
  rollbackBodySchema,
} from './wire/requests.js';
import type { configApplyResponseSchema, configChangeSchema, configPlanSchema } from './wire/config.js';
import type {
  commandResponseSchema,
  deployResponseSchema,
  rolloutPlanResponseSchema,
  rolloutResponseSchema,
  deploymentDetailResponseSchema,
  deploymentResponseSchema,
  errorResponseSchema,
  healthzResponseSchema,
  historyResponseSchema,
  logsResponseSchema,
  restartResponseSchema,
  rollbackResponseSchema,
} from './wire/responses.js';
import type { fleetRestartSchema } from './wire/fleet-restart.js';
import type {
  fleetRolloutSchema,
  targetsCommandBodySchema,
  targetsDeployBodySchema,
  targetsListResponseSchema,
  targetsReportBodySchema,
  targetsReportResponseSchema,
  targetsRolloutResponseSchema,
  targetsRolloutSchema,
  targetsRolloutSummarySchema,
} from './wire/targets.js';
import type {
  appStatusSchema,
  canaryLiveSchema,
  instanceViewSchema,
  routerStatusSchema,
  statusResponseSchema,
  waitingReleaseSchema,
} from './wire/status.js';

/** A wire shape as the code holds it: read-only all the way down. */
export type Wire<S extends z.ZodType> = DeepReadonly<z.output<S>>;
type DeepReadonly<T> = T extends (infer U)[]
  ? ReadonlyArray<DeepReadonly<U>>
  : T extends object
    ? { readonly [K in keyof T]: DeepReadonly<T[K]> }
    : T;

export type { StrategyKind };
export type Deployment = Wire<typeof deploymentSchema>;
export type DeploymentEvent = Wire<typeof deploymentEventSchema>;
export type Release = Wire<typeof releaseSchema>;
export type ServedReport = Wire<typeof servedReportSchema>;
/** What started a deployment or a rollout, or brought a release: a user, a webhook, a watcher. */
export type TriggerView = Wire<typeof triggerSchema>;
/** The body of POST /v1/apps/:app/releases as the daemon holds it once validated (`deploy` defaulted). */
export type ReleaseAddBody = z.output<typeof releaseAddBodySchema>;
/** The body of POST /v1/apps/:app/releases as a client sends it. */
export type ReleaseAddRequest = z.input<typeof releaseAddBodySchema>;
/** A release as the catalog keeps it, its artifact URL redacted. */
export type CatalogEntryView = Wire<typeof catalogEntrySchema>;
export type IntakeOutcomeView = Wire<typeof intakeOutcomeSchema>;
export type ReleaseAddResponse = Wire<typeof releaseAddResponseSchema>;
/** A release's ledger status in one environment, and whether it serves there. */
export type ReleaseEnvStatus = Wire<typeof releaseEnvStatusSchema>;
/** A release of the catalog with where it stands in each environment of its app. */
export type CatalogRelease = Wire<typeof catalogReleaseSchema>;
export type ReleasesResponse = Wire<typeof releasesResponseSchema>;

export type InstanceView = Wire<typeof instanceViewSchema>;
export type AppStatus = Wire<typeof appStatusSchema>;
/** The current canary step's analysis window so far, per release (the canary first). */
export type CanaryLiveView = Wire<typeof canaryLiveSchema>;
export type StatusResponse = Wire<typeof statusResponseSchema>;
/** A release waiting to deploy by itself (`ferry status`). */
export type WaitingRelease = Wire<typeof waitingReleaseSchema>;
/** The router process tree: its keeper, workers, restarts, and what is wrong with it, if anything. */
export type RouterStatusView = Wire<typeof routerStatusSchema>;
export type HealthzResponse = Wire<typeof healthzResponseSchema>;
export type HostView = Wire<typeof hostViewSchema>;
export type HostsResponse = Wire<typeof hostsResponseSchema>;
/** A host as enrollment keeps it (never its credential). */
export type EnrolledHostView = Wire<typeof enrolledHostSchema>;
export type HostRevokeResponse = Wire<typeof hostRevokeResponseSchema>;
/** A join token as listed: never its secret. */
export type JoinTokenView = Wire<typeof joinTokenSchema>;
export type JoinTokensResponse = Wire<typeof joinTokensResponseSchema>;
/** The answer to creating a join token: the token itself, this once. */
export type JoinTokenCreateResponse = Wire<typeof joinTokenCreateResponseSchema>;
export type JoinTokenRevokeResponse = Wire<typeof joinTokenRevokeResponseSchema>;
/** A lock on an environment (app null) or on one app in it. */
export type LockView = Wire<typeof lockSchema>;
/** A deploy queued behind a lock, or one that could not start once it was released. */
export type QueuedDeployView = Wire<typeof queuedDeploySchema>;
export type LockBody = z.output<typeof lockBodySchema>;
export type UnlockBody = z.output<typeof unlockBodySchema>;
export type LockResponse = Wire<typeof lockResponseSchema>;
export type UnlockResponse = Wire<typeof unlockResponseSchema>;
export type LocksResponse = Wire<typeof locksResponseSchema>;
export type QueuedResponse = Wire<typeof queuedResponseSchema>;

export type DeployBody = z.output<typeof deployBodySchema>;
export type RollbackBody = z.output<typeof rollbackBodySchema>;
/** The body of POST /v1/apps/:app/canary: the running canary step's share, 30 or "30%". */
export type CanaryWeightBody = Omit<z.input<typeof canaryBodySchema>, 'weight'> & {
  readonly weight: number | string;
};
/** The body of POST /v1/apps/:app/{pause,resume,promote,abort}. */
export type CommandBody = z.output<typeof commandBodySchema>;

/** The body of POST /v1/join-tokens as the daemon holds it once validated: `ttl` in ms. */
export type JoinTokenCreateBody = z.output<typeof joinTokenCreateBodySchema>;
/** The body of POST /v1/join-tokens as a client sends it: `ttl` a duration like "1h". */
export type JoinTokenCreateRequest = Omit<z.input<typeof joinTokenCreateBodySchema>, 'ttl'> & {
  readonly ttl: string;
};

/** The body of POST /v1/apps/:app/restart. */
export type RestartBody = z.output<typeof restartBodySchema>;
/**
 * The body of POST /v1/config/plan and /v1/config/apply. Without `config` the daemon reads the file
 * it was started with again (as SIGHUP does).
 */
export type ConfigApplyBody = z.output<typeof configBodySchema>;
/** What applying a configuration does (or did) to one app in one environment. */
export type ConfigChangeView = Wire<typeof configChangeSchema>;
/** The plan of `ferry apply`: like `terraform plan`, printed before anything changes. */
export type ConfigPlanView = Wire<typeof configPlanSchema>;
export type ConfigApplyResponse = Wire<typeof configApplyResponseSchema>;

export type DeploymentResponse = Wire<typeof deploymentResponseSchema>;
/** POST /v1/deployments: `{deployment}`, or `{queued, replaced}` for a deploy queued behind a lock. */
export type DeployResponse = Wire<typeof deployResponseSchema>;
export type CommandResponse = Wire<typeof commandResponseSchema>;
export type RolloutResponse = Wire<typeof rolloutResponseSchema>;
/** POST /v1/apps/:app/restart: `{deployment}` on this host, `{restart}` across an environment's hosts. */
export type RollbackResponse = Wire<typeof rollbackResponseSchema>;
export type RestartResponse = Wire<typeof restartResponseSchema>;
/** A restart across an environment's enrolled hosts, host by host. */
export type FleetRestartView = Wire<typeof fleetRestartSchema>;
export type RolloutPlanResponse = Wire<typeof rolloutPlanResponseSchema>;
export type DeploymentDetailResponse = Wire<typeof deploymentDetailResponseSchema>;
export type HistoryResponse = Wire<typeof historyResponseSchema>;
export type LogsResponse = Wire<typeof logsResponseSchema>;
/** One line of an instance's log; followed lines carry when the daemon read them. */
export type LogLine = LogsResponse['lines'][number];
export type ErrorResponse = Wire<typeof errorResponseSchema>;

/** Server-sent events on /v1/deployments/:id/events. */
export type DeploymentStreamMessage = Wire<typeof deploymentStreamMessageSchema>;
/** One event of the global stream, GET /v1/events. */
export type FerryEvent = Wire<typeof ferryEventSchema>;
export type EventGap = Wire<typeof eventGapSchema>;
/** Server-sent events on /v1/events: the events, and a gap when some could not be replayed. */
export type EventStreamMessage = Wire<typeof eventStreamMessageSchema>;

/** A client's report of targets outside Ferry: POST /v1/targets/:namespace/:entity/report. */
export type TargetsReportBody = z.output<typeof targetsReportBodySchema>;
export type TargetsDeployBody = z.output<typeof targetsDeployBodySchema>;
export type TargetsCommandBody = z.output<typeof targetsCommandBodySchema>;
/** The release each reported target should run, and where the rollout stands. */
export type TargetsReportResponse = Wire<typeof targetsReportResponseSchema>;
export type TargetsRolloutSummary = Wire<typeof targetsRolloutSummarySchema>;
export type TargetsRollout = Wire<typeof targetsRolloutSchema>;
export type TargetsRolloutResponse = Wire<typeof targetsRolloutResponseSchema>;
export type TargetsListResponse = Wire<typeof targetsListResponseSchema>;

export const COMMANDS = ['pause', 'resume', 'promote', 'abort'] as const;

/** A deployment in one of these statuses will not change any more. */
export const FINAL_DEPLOYMENT_STATUSES: readonly string[] = ['succeeded', 'failed', 'rolled-back', 'aborted'];
/** The rollout of an app across the enrolled hosts of an environment. */
export type FleetRollout = Wire<typeof fleetRolloutSchema>;
