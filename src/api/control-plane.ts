import type { DeploymentCommand } from '../engine/types.js';
import type { EventFilter, EventPublisher } from '../events/publisher.js';
import type {
  CommandResponse,
  FleetRollout,
  ConfigApplyBody,
  ConfigApplyResponse,
  ConfigPlanView,
  DeployBody,
  DeployResponse,
  Deployment,
  DeploymentEvent,
  HistoryResponse,
  HostRevokeResponse,
  HostsResponse,
  JoinTokenCreateBody,
  JoinTokenCreateResponse,
  JoinTokenRevokeResponse,
  JoinTokensResponse,
  LockBody,
  LockResponse,
  LocksResponse,
  LogLine,
  LogsResponse,
  ReleaseAddBody,
  ReleaseAddResponse,
  ReleasesResponse,
  RestartResponse,
  RollbackResponse,
  RollbackBody,
  StatusResponse,
  UnlockBody,
  UnlockResponse,
  TargetsCommandBody,
  TargetsDeployBody,
  TargetsListResponse,
  TargetsReportBody,
  TargetsReportResponse,
  TargetsRolloutResponse,
} from './types.js';

/**
 * Rollouts over targets Ferry does not run itself (nixmade/orchestrator's namespaces, entities and
 * targets): a client reports its targets and is answered the release each should run.
 */
export interface ExternalTargetsControl {
  /** Takes the targets' states (at the server's time now) and answers the release of each. */
  report(namespace: string, entity: string, body: TargetsReportBody): Promise<TargetsReportResponse>;
  /** Rolls a release out (queued behind a running rollout unless forced), with new options if given. */
  deploy(
    namespace: string,
    entity: string,
    body: TargetsDeployBody,
    actor: string,
  ): Promise<TargetsRolloutResponse>;
  command(
    namespace: string,
    entity: string,
    command: TargetsCommandBody['command'],
    actor: string,
  ): Promise<TargetsRolloutResponse>;
  /** FERRY_E_ROLLOUT_UNKNOWN for an entity never reported nor deployed. */
  rollout(namespace: string, entity: string): Promise<TargetsRolloutResponse>;
  list(): Promise<TargetsListResponse>;
}

/** What the API serves, implemented by the daemon. The API holds no state of its own. */
export interface ControlPlane {
  status(filter: { app?: string; env?: string }): Promise<StatusResponse>;
  /** Starts the deployment, or (`queue`, while a lock holds the app) queues it behind the lock. */
  deploy(body: DeployBody, actor: string): Promise<DeployResponse>;
  /** On one host a deployment back; on an environment of enrolled hosts a rollout back across them. */
  rollback(body: RollbackBody, actor: string): Promise<RollbackResponse>;
  /**
   * Replaces the serving release's instances batch by batch (`ferry restart`); on an environment of
   * enrolled hosts, host by host, at most `rollout.restart_at_once` at a time.
   */
  restart(app: string, env: string | undefined, actor: string): Promise<RestartResponse>;
  /** What applying the configuration would do (`ferry apply --dry-run`); changes nothing. */
  planConfig(body: ConfigApplyBody): Promise<ConfigPlanView>;
  /** Applies the configuration as planned; refused (nothing changed) when the plan has refusals. */
  applyConfig(body: ConfigApplyBody, actor: string): Promise<ConfigApplyResponse>;
  /** Steers the app's deployment here, or (an environment on enrolled hosts) its rollout across them. */
  command(
    app: string,
    env: string | undefined,
    command: DeploymentCommand,
    actor: string,
    opts?: { force?: boolean; host?: string },
  ): Promise<CommandResponse>;
  /** The app's rollout across the enrolled hosts of an environment (FERRY_E_ROLLOUT_UNKNOWN before its first). */
  rollout(app: string, env: string | undefined): Promise<FleetRollout>;
  /** Sets the running canary step's share (percent, already parsed); the step starts over at it. */
  setCanaryWeight(app: string, env: string | undefined, weight: number, actor: string): Promise<Deployment>;
  deployment(id: string): Promise<Deployment>;
  deploymentEvents(id: string, afterSeq?: number): Promise<readonly DeploymentEvent[]>;
  history(app: string, env: string | undefined, limit: number): Promise<HistoryResponse>;
  /**
   * Records a release given by hand (`ferry release add`) through the intake, which deploys it where
   * the app's policies allow; with `deploy: false` only records it in the catalog.
   */
  addRelease(app: string, body: ReleaseAddBody, actor: string): Promise<ReleaseAddResponse>;
  /** The app's catalog, newest first, with each release's ledger status and serving mark per environment. */
  releases(app: string, limit: number): Promise<ReleasesResponse>;
  /** Locks an environment or an app in it (`ferry lock`); the actor owns the lock. */
  lock(body: LockBody, actor: string): Promise<LockResponse>;
  /** Releases a lock (`ferry unlock`). */
  unlock(body: UnlockBody, actor: string): Promise<UnlockResponse>;
  /** The locks that hold and the deploys queued behind them, of one environment or app if named. */
  locks(filter: { env?: string; app?: string }): Promise<LocksResponse>;
  /** Every host heard from, with what it last reported (`ferry hosts`). */
  hosts(): Promise<HostsResponse>;
  /** Revokes an enrolled host named by its id or its name (FERRY_E_HOST_UNKNOWN if none). */
  revokeHost(host: string, actor: string): Promise<HostRevokeResponse>;
  /** Creates a join token: the answer holds the token, which is never shown again. */
  createJoinToken(body: JoinTokenCreateBody, actor: string): Promise<JoinTokenCreateResponse>;
  joinTokens(): Promise<JoinTokensResponse>;
  /** Revokes (deletes) a join token (FERRY_E_JOIN_TOKEN_UNKNOWN if none). */
  revokeJoinToken(id: string, actor: string): Promise<JoinTokenRevokeResponse>;
  logs(app: string, env: string | undefined, lines: number): Promise<LogsResponse>;
  /**
   * Follows the app's instance logs (`ferry logs -f`) through the agents of the hosts that run it:
   * each instance's last `lines` lines, then its new lines as they come, of instances started later
   * too, handed to `follow.send` until `follow.signal` aborts. Resolves once the follow runs
   * (FERRY_E_APP_UNKNOWN, FERRY_E_ENV_UNKNOWN before); a host that does not answer is a line.
   */
  followLogs(
    app: string,
    env: string | undefined,
    lines: number,
    follow: { readonly signal: AbortSignal; readonly send: (line: LogLine) => void },
  ): Promise<void>;
  /**
   * The daemon's events as they happen: deployment states and events (once persisted), instance
   * and health changes, router restarts, config applies.
   */
  readonly events: EventPublisher;
  /** Checks a stream's filter against the config: FERRY_E_APP_UNKNOWN, FERRY_E_ENV_UNKNOWN. */
  checkEventFilter(filter: EventFilter): void;
  /** Prometheus metrics in the text exposition format, and its content type. */
  metrics(): Promise<{ contentType: string; text: string }>;
  /** Rollouts over targets outside Ferry. */
  readonly targets: ExternalTargetsControl;
}
