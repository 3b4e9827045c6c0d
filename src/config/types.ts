import type { AnalysisSpec, CanaryStep, StrategySpec } from '../engine/types.js';
import type { HealthCheckSpec } from '../health/types.js';
import type { IpRange, ListenAddress } from './fields.js';
import type { Labels } from '../lib/labels.js';
import type { AppRolloutConfig } from './rollout-settings.js';
import type { AppSourcesConfig } from './source-settings.js';
import type { AppTriggersConfig, TriggersConfig } from './trigger-settings.js';
import type { NotificationConfig } from './notifications.js';
import type { AutoDeployPolicy } from './auto-deploy.js';

/** ferry.yaml compiled: plain units (ms, ratios), defaults applied, paths absolute, frozen. */
export interface FerryConfig {
  /** The file it was read from, or null for the embedded defaults. */
  readonly configPath: string | null;
  readonly dataDir: string;
  readonly api: {
    readonly listen: ListenAddress;
    /** PEM files (absolute paths) when the API serves HTTPS. */
    readonly tls: { readonly certFile: string; readonly keyFile: string } | null;
    readonly allowInsecure: boolean;
  };
  readonly metrics: {
    /** A second address serving GET /metrics without the token; null when not set. */
    readonly listen: ListenAddress | null;
  };
  readonly router: {
    readonly holdTimeoutMs: number;
    /** Worker processes behind the router's listening sockets. */
    readonly workers: number;
    readonly trustedProxies: readonly IpRange[];
  };
  /** This host's download cache, keyed by checksum; cacheDir null when turned off. */
  readonly artifacts: {
    readonly cacheDir: string | null;
    readonly cacheMaxBytes: number;
    readonly requireChecksum: boolean;
  };
  /**
   * Where agents on other hosts connect (HTTPS); null: no agents but this host's own. `tls` null:
   * the server's own CA in the data directory (docs/trust.md).
   */
  readonly server: {
    readonly listen: ListenAddress;
    readonly names: readonly string[];
    readonly tls: { readonly certFile: string; readonly keyFile: string; readonly caFile: string } | null;
    /** The key-value store's URL (etcd://...); null: control.db in the data directory. */
    readonly store: string | null;
  } | null;
  /** The webhook listener; null when no app has triggers and the file sets none. */
  readonly triggers: TriggersConfig | null;
  readonly environments: readonly string[];
  /**
   * Per environment, the labels of the enrolled hosts it runs on; an environment not here runs on
   * the server's own host. A Map: environment names come from the file.
   */
  readonly environmentHosts: ReadonlyMap<string, Labels>;
  readonly apps: Readonly<Record<string, AppConfig>>;
  /** Where deployment events are sent (docs/triggers.md#notifications). */
  readonly notifications: readonly NotificationConfig[];
}

/**
 * The configuration in effect now. `ferry apply` (and SIGHUP) replace it while the daemon runs, so
 * parts that outlive one configuration read it here at each use rather than keep a copy.
 */
export interface ConfigSource {
  readonly current: FerryConfig;
}

/** The same shape the health monitor takes: config compiles straight into it. */
export type HealthCheckConfig = HealthCheckSpec;

export interface HealthConfig {
  readonly check: HealthCheckConfig;
  readonly intervalMs: number;
  readonly timeoutMs: number;
  readonly healthyThreshold: number;
  readonly unhealthyThreshold: number;
  readonly startPeriodMs: number;
  /** How long a new release gets to become healthy before the deployment fails. */
  readonly deadlineMs: number;
}

export interface ArtifactConfig {
  /** May contain {version}; file:// URLs are absolute after compilation. */
  readonly url: string;
  readonly checksum: string | null;
  readonly checksumsUrl: string | null;
  readonly headers: Readonly<Record<string, string>>;
  /** Deadline for one fetch, retries and waits included. */
  readonly timeoutMs: number;
  readonly retries: number;
  readonly retryWaitMs: number;
  /** Average download speed limit; null = unlimited. */
  readonly maxBytesPerSecond: number | null;
  readonly randomDelayMs: number;
  readonly limits: { readonly maxBytes: number; readonly maxEntries: number };
  /** A remote source (http, s3, gs) must have a checksum or checksums file (false for file://). */
  readonly requireChecksum: boolean;
  /** md5 and sha1 are refused unless allowed. */
  readonly allowWeakChecksums: boolean;
}

/** How the router serves one app: upstream timeouts, client limits, forwarded headers. */
export interface AppRouterConfig {
  readonly connectTimeoutMs: number;
  /** From the request sent to the response headers (504 after). */
  readonly responseTimeoutMs: number;
  /** No body bytes moving, either way, for this long ends the exchange. */
  readonly idleTimeoutMs: number;
  /** Connect plus the 101 answer of an Upgrade (WebSocket) request. */
  readonly upgradeTimeoutMs: number;
  /** A client must send its request headers within this (408 after). */
  readonly headerTimeoutMs: number;
  /** A client must send its whole request within this (408 after). */
  readonly requestTimeoutMs: number;
  /** Larger request headers get 431. */
  readonly maxHeaderBytes: number;
  readonly maxConnections: number;
  /** Per client address; trusted proxies are exempt. */
  readonly maxConnectionsPerClient: number;
  /** The app's own list, or router.trusted_proxies. */
  readonly trustedProxies: readonly IpRange[];
}

export interface AppConfig {
  readonly name: string;
  readonly artifact: ArtifactConfig;
  /** Deployed at start when the app has no release yet in an environment. */
  readonly initialRelease: string | null;
  readonly run: {
    readonly command: string;
    readonly args: readonly string[];
    readonly env: Readonly<Record<string, string>>;
    /** Run instances, hooks and command checks as this user and group (names or ids); null = Ferry's own. */
    readonly user: string | null;
    readonly group: string | null;
  };
  readonly health: HealthConfig;
  readonly strategy: StrategySpec;
  /** Canary steps and analysis, also used when a deploy asks for `--strategy canary`. */
  readonly canary: { readonly steps: readonly CanaryStep[]; readonly analysis: AnalysisSpec };
  readonly stopGraceMs: number;
  readonly hooks: {
    readonly beforeStart: readonly string[];
    readonly afterSwitch: readonly string[];
    readonly success: readonly string[];
    readonly failure: readonly string[];
    readonly timeoutMs: number;
  };
  readonly keepReleases: number;
  readonly router: AppRouterConfig;
  /** How a release moves across the hosts of an environment with `hosts:`. */
  readonly rollout: AppRolloutConfig;
  /** Settings per environment the app is deployed to. */
  readonly environments: Readonly<Record<string, AppEnvironmentConfig>>;
  /** Webhooks that may deploy the app; their secrets are never shown. */
  readonly triggers: AppTriggersConfig;
  /** Where Ferry looks for new releases by itself; the token is never shown. */
  readonly sources: AppSourcesConfig;
}

export interface AppEnvironmentConfig {
  readonly listen: ListenAddress;
  readonly instances: number;
  readonly env: Readonly<Record<string, string>>;
  /** `auto_deploy` as configured; null: the default (on where the app has a trigger or source). */
  readonly autoDeploy: AutoDeployPolicy | null;
}
