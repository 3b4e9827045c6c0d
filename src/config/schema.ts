import { z } from 'zod';
import {
  account,
  count,
  version,
  duration,
  envVars,
  hostSelector,
  ipOrCidr,
  listen,
  name,
  percent,
  positiveInt,
  ratio,
  shellLines,
  size,
} from './fields.js';
import { HOST_SETTING_DEFAULTS } from './host-defaults.js';
import { DEFAULT_AGENTS_LISTEN, DEFAULT_API_LISTEN } from './listen-address.js';
import { parseAmount } from '../rollout/options.js';
import { appSourcesSchema } from './source-settings.js';
import { appTriggersSchema, triggersSchema } from './trigger-settings.js';
import { autoDeploySchema } from './auto-deploy.js';
import { NOTIFY_EVENTS, NOTIFY_KINDS } from '../notify/events.js';

/**
 * The one schema of ferry.yaml. Raw values with human units ("5s", "10%") are validated here and
 * compiled into frozen options in plain units by compile.ts. docs/configuration.md documents it.
 */

const httpCheck = z.strictObject({
  path: z.string().startsWith('/', 'expected a path starting with "/"').default('/healthz'),
  status: z
    .union([z.number().int().min(100).max(599), z.array(z.number().int().min(100).max(599)).min(1)])
    .default(200),
  host: z.string().optional(),
});

const health = z
  .strictObject({
    http: httpCheck.optional(),
    tcp: z.union([z.literal(true), z.strictObject({})]).optional(),
    command: z.string().min(1).optional(),
    interval: duration.prefault('1s'),
    timeout: duration.prefault('1s'),
    healthy_threshold: positiveInt('a count of checks').prefault(2),
    unhealthy_threshold: positiveInt('a count of checks').prefault(3),
    start_period: duration.prefault('5s'),
    deadline: duration.prefault('60s'),
  })
  .superRefine((h, ctx) => {
    const kinds = [h.http, h.tcp, h.command].filter((k) => k !== undefined).length;
    if (kinds > 1)
      ctx.addIssue({ code: 'custom', message: 'expected one of http, tcp or command, got several' });
  });

const canaryStep = z.strictObject({ weight: percent, pause: duration.prefault('30s') });

const strategy = z.strictObject({
  kind: z.enum(['blue-green', 'canary', 'all-at-once']).default('blue-green'),
  steps: z.array(canaryStep).min(1).optional(),
  analysis: z
    .strictObject({
      max_error_rate: ratio.prefault('5%'),
      min_requests: z.number().int().min(0).default(20),
      /** How long past its pause a step may wait for min_requests before it is inconclusive. */
      max_wait: duration.prefault('5m'),
      /** What an inconclusive step does: wait for an operator, or fail (and roll back). */
      inconclusive: z.enum(['pause', 'fail']).default('pause'),
    })
    .optional(),
});

const artifact = z.strictObject({
  url: z.string().min(1, 'expected an artifact URL'),
  checksum: z.string().optional(),
  checksums: z.string().optional(),
  headers: z.record(z.string(), z.string()).optional(),
  timeout: duration.prefault('1h'),
  retries: count('a number of retries').prefault(3),
  retry_wait: duration.prefault('1s'),
  max_bandwidth: size('bytes per second').optional(),
  random_delay: duration.prefault('0s'),
  max_unpacked_size: size('a size').prefault('2GiB'),
  max_entries: positiveInt('a number of entries').prefault(100_000),
  /** Overrides artifacts.require_checksum for this app (remote sources only). */
  require_checksum: z.boolean().optional(),
  /** md5 and sha1 checksums are refused unless this is set. */
  allow_weak_checksums: z.boolean().default(false),
});

const run = z.strictObject({
  command: z.string().min(1, 'expected the command that starts the app'),
  args: z.array(z.string()).default([]),
  env: envVars.default({}),
  /** Instances, hooks and command health checks run as this user (and group) when Ferry runs as root. */
  user: account('a user name or uid').optional(),
  group: account('a group name or gid').optional(),
});

/** The router's settings for one app: upstream timeouts, client limits, forwarded headers. */
const appRouter = z.strictObject({
  connect_timeout: duration.prefault('5s'),
  response_timeout: duration.prefault('60s'),
  idle_timeout: duration.prefault('60s'),
  upgrade_timeout: duration.prefault('10s'),
  header_timeout: duration.prefault('20s'),
  request_timeout: duration.prefault('5m'),
  max_header_size: size('a size').prefault('16KiB'),
  max_connections: positiveInt('a number of connections').prefault(10_000),
  max_connections_per_client: positiveInt('a number of connections').prefault(1_000),
  trusted_proxies: z.array(ipOrCidr).optional(),
});

/** A number of hosts (`2`) or a percent of them (`"25%"`). */
const hostAmount = z.union([z.number(), z.string()]).transform((value, ctx) => {
  const amount = parseAmount(value);
  if (amount === undefined) {
    ctx.addIssue({
      code: 'custom',
      message: `expected a number of hosts like 2 or a percent like "25%", got ${JSON.stringify(value)}`,
    });
    return z.NEVER;
  }
  return amount;
});

const rolloutController = z.strictObject({
  /** Asked with a POST of the question (JSON); answers JSON. May carry credentials (never shown). */
  url: z.url({ protocol: /^https?$/, error: 'expected an http(s):// URL' }),
  timeout: duration.optional(),
});

/** How a release moves across an environment's hosts (docs/rollouts.md). */
const rollout = z.strictObject({
  batch: hostAmount.optional(),
  max_unavailable: hostAmount.optional(),
  /** The share of hosts that must succeed for the release to be good (whole percent). */
  success: percent.optional(),
  soak: duration.optional(),
  deadline: duration.optional(),
  silent_after: duration.optional(),
  unseen_after: duration.optional(),
  /** `ferry restart` on enrolled hosts: at most this many hosts restart the app at once (docs/rollouts.md). */
  restart_at_once: z.number().int().min(1).max(1000).optional(),
  /** A first batch that pauses (and may be analysed) before the rest. */
  canary: z
    .strictObject({
      size: hostAmount.optional(),
      pause: duration.optional(),
      analysis: z.boolean().optional(),
    })
    .optional(),
  controllers: z
    .strictObject({
      selection: rolloutController.optional(),
      approval: rolloutController.extend({ at: z.enum(['start', 'after-canary']).optional() }).optional(),
      target_monitor: rolloutController.optional(),
      fleet_monitor: rolloutController.optional(),
    })
    .optional(),
});

const hooks = z.strictObject({
  before_start: shellLines.default([]),
  after_switch: shellLines.default([]),
  success: shellLines.default([]),
  failure: shellLines.default([]),
  timeout: duration.prefault('60s'),
});

/** Per-environment settings of an app: where its router listens and any overrides. */
const appEnvironment = z.strictObject({
  listen: listen.optional(),
  instances: positiveInt('a number of instances').optional(),
  env: envVars.optional(),
  /** Whether new releases deploy by themselves here, and under which policy (docs/triggers.md#policies). */
  auto_deploy: autoDeploySchema.optional(),
});

const app = z.strictObject({
  artifact,
  /** Deployed when `ferry up` starts and the app has no release yet in an environment. */
  initial_release: version.optional(),
  run,
  instances: positiveInt('a number of instances').prefault(1),
  listen: listen.optional(),
  health: health.prefault({}),
  strategy: strategy.prefault({}),
  stop: z.strictObject({ grace: duration.prefault('10s') }).prefault({}),
  hooks: hooks.prefault({}),
  keep_releases: positiveInt('a number of releases').prefault(5),
  router: appRouter.prefault({}),
  /** Across an environment's hosts (environments with `hosts:`). */
  rollout: rollout.prefault({}),
  environments: z.record(z.string(), appEnvironment).default({}),
  /** Webhooks that may deploy the app (docs/triggers.md). */
  triggers: appTriggersSchema.optional(),
  /** Where Ferry looks for new releases by itself (docs/triggers.md#release-sources). */
  sources: appSourcesSchema.optional(),
});

/** Where deployment events are sent (docs/triggers.md#notifications). */
const notification = z.strictObject({
  kind: z.enum(NOTIFY_KINDS),
  /** May carry credentials (a Slack webhook's path is one): never shown. */
  url: z.url({ protocol: /^https?$/, error: 'expected an http(s):// URL' }),
  events: z.array(z.enum(NOTIFY_EVENTS)).min(1).optional(),
  /** Only these apps' deployments; every app's without it. */
  apps: z.array(z.string().min(1)).min(1).optional(),
  /** The HMAC key of a webhook's signatures: from this environment variable of the daemon, or a file. */
  secret_env: z.string().min(1).optional(),
  secret_file: z.string().min(1).optional(),
  timeout: duration.prefault('10s'),
  attempts: z.number().int().min(1).max(20).default(5),
  queue: z.number().int().min(1).max(10_000).default(100),
});

export const configSchema = z.strictObject({
  data_dir: z.string().optional(),
  api: z
    .strictObject({
      listen: listen.prefault(DEFAULT_API_LISTEN),
      /** Serve HTTPS with this certificate and key (PEM files). */
      tls: z.strictObject({ cert: z.string().min(1), key: z.string().min(1) }).optional(),
      /** A listen address other than loopback without TLS is refused unless this is set. */
      allow_insecure: z.boolean().default(false),
    })
    .prefault({}),
  /**
   * Agents on other hosts connect here (`ferry server`; `ferry up` too when set): HTTPS always,
   * with the operator's files or the server's own CA (docs/trust.md).
   */
  server: z
    .strictObject({
      listen: listen.prefault(DEFAULT_AGENTS_LISTEN),
      /** Names and IP addresses agents reach the server by, for the server's own certificate. */
      names: z.array(z.string().min(1)).default([]),
      tls: z
        .strictObject({ cert: z.string().min(1), key: z.string().min(1), ca: z.string().min(1) })
        .optional(),
      /**
       * The control plane's key-value store (hosts' desired states, enrollment, rollouts, locks):
       * `etcd://host:port[,host:port...][/prefix]`; the data directory's control.db without it.
       */
      store: z.string().min(1).optional(),
    })
    .optional(),
  /** The webhook listener, on an address of its own (docs/triggers.md). */
  triggers: triggersSchema.optional(),
  metrics: z
    .strictObject({
      /**
       * Also serve GET /metrics here, without the API token, for Prometheus scrapers (the API
       * serves it with the token in any case).
       */
      listen: listen.optional(),
    })
    .prefault({}),
  router: z
    .strictObject({
      hold_timeout: duration.prefault(HOST_SETTING_DEFAULTS.routerHoldTimeout),
      /**
       * Router worker processes accepting on the listening sockets; a warm spare beside them takes
       * a dead one's place at once. More help on machines with more cores.
       */
      workers: z.number().int().min(1).max(16).default(HOST_SETTING_DEFAULTS.routerWorkers),
      /** Peers whose X-Forwarded-*, Forwarded and X-Real-IP headers are kept (IPs or CIDRs). */
      trusted_proxies: z.array(ipOrCidr).default([]),
    })
    .prefault({}),
  artifacts: z
    .strictObject({
      cache: z.boolean().default(HOST_SETTING_DEFAULTS.artifactsCache),
      cache_max_size: size('a size').prefault(HOST_SETTING_DEFAULTS.artifactsCacheMaxSize),
      /** Remote artifacts (http, s3, gs) need a checksum or checksums file unless turned off. */
      require_checksum: z.boolean().default(HOST_SETTING_DEFAULTS.artifactsRequireChecksum),
    })
    .prefault({}),
  environments: z
    .record(
      name('an environment name'),
      z
        .strictObject({
          /**
           * The enrolled hosts the environment runs on, by their labels (every label must match);
           * without it the environment runs on the server's own host.
           */
          hosts: hostSelector.optional(),
        })
        .nullable(),
    )
    .default({}),
  apps: z.record(name('an app name'), app).default({}),
  notifications: z.array(notification).default([]),
});

export type RawConfig = z.output<typeof configSchema>;
export type RawApp = z.output<typeof app>;
export type RawNotification = z.output<typeof notification>;
