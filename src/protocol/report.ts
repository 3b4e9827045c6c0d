/**
 * The agent protocol's second message: what one host runs, sent by its agent on every change and
 * at least every heartbeat. Effects of the control plane are acknowledged here: an effect is done
 * when a report at or after the desired revision that asked for it says so.
 */
import { z } from 'zod';
import { HEALTH_STATUSES } from '../health/types.js';
import { INSTANCE_STATES } from '../store/store.js';

const id = z.string().min(1).max(200);
const count = z.number().int().min(0);
const failureSchema = z.object({ code: z.string(), message: z.string() });

export const INSTALL_STATES = ['installing', 'installed', 'failed'] as const;
/** The router process tree as the host's agent watches it. */
export const ROUTER_CHANGES = [
  'keeper-down',
  'keeper-replaced',
  'keeper-unrecoverable',
  'worker-restarted',
  'trouble',
  'recovered',
] as const;
/** An instance's process: started, restarted after a crash, crashed, crash-looping, stopped. */
export const INSTANCE_CHANGES = ['started', 'restarted', 'crashed', 'crash-loop', 'stopped'] as const;
/**
 * The most events one report carries (the oldest unacknowledged ones go first beyond it), and the
 * longest text of one: with the log lines a task may carry, a report stays within its bound.
 */
export const MAX_REPORTED_EVENTS = 100;
export const MAX_EVENT_TEXT = 500;
export const TASK_STATES = ['running', 'passed', 'failed'] as const;

export const instanceReportSchema = z.object({
  id,
  version: z.string(),
  /** The process's state, or `retiring` once it left the route (draining, then stopped). */
  state: z.enum([...INSTANCE_STATES, 'retiring']),
  health: z.enum(HEALTH_STATUSES),
  pid: z.number().int().nullable(),
  startedAt: z.number().int().nullable(),
  restarts: count,
  lastExit: z.string().nullable(),
  cpuPercent: z.number().nullable(),
  rssBytes: count.nullable(),
  /** CPU time of its process since it started (seconds), at the last sample. Absent from an older agent's. */
  cpuSeconds: z.number().min(0).optional(),
  /** The port it listens on. Absent from an older agent's, as are the two below. */
  port: z.number().int().min(0).max(65_535).optional(),
  /** Its health check's last failure. */
  lastFailure: z.string().nullable().optional(),
  /** How its process last ended (`lastExit` says it in words), when. */
  exit: z
    .object({ code: z.number().int().nullable(), signal: z.string().nullable(), at: z.number().int() })
    .nullable()
    .optional(),
  /**
   * It runs an earlier run configuration of its app (command, environment, user...) than the one
   * the host has now: the next deployment or restart replaces it. Absent from an older agent's.
   */
  stale: z.boolean().optional(),
  /** Why it is failing (health detail, its log's last lines, secrets redacted): the rollback's evidence. */
  evidence: z.object({ health: z.string().optional(), logTail: z.array(z.string()) }).optional(),
});

export const releaseReportSchema = z.object({
  version: z.string(),
  install: z.enum(INSTALL_STATES),
  failure: failureSchema.optional(),
  /** Once installed: where it came from (credentials redacted) and its verified checksum, for the ledger. */
  source: z.object({ url: z.string(), checksum: z.string().nullable() }).optional(),
  /** The desired restart (its id) is done: every instance that served before it was replaced, the new ones healthy. */
  restarted: id.optional(),
});

/**
 * The router's cumulative counters of the app's route, within one counter epoch (a new epoch: the
 * router's counters started afresh): requests and errors per release (the canary analysis) and the
 * request outcomes (the served-request report).
 */
export const routeCountersSchema = z.object({
  epoch: z.string().nullable(),
  releases: z.array(z.object({ version: z.string(), requests: count, errors: count })),
  outcomes: z.object({
    releases: z.array(
      z.object({ version: z.string(), answered: count, serverError: count, reset: count, timeout: count }),
    ),
    held: count,
    rejected: count,
    abandoned: count,
  }),
});

export const taskReportSchema = z.object({
  id,
  state: z.enum(TASK_STATES),
  failure: failureSchema.optional(),
  /**
   * A `tail-logs` task's answer: each instance's last lines, or those after the task's offsets
   * (bounded: see MAX_LOG_REPLY_BYTES; only whole lines).
   */
  logs: z
    .array(
      z.object({
        instance: z.string(),
        version: z.string(),
        lines: z.array(z.string()),
        /** The byte offset of its log read up to: where the next read starts. Absent from an older agent's. */
        end: z.number().int().min(0).optional(),
        /** More was there than the answer could take: ask again at once. */
        more: z.boolean().optional(),
      }),
    )
    .optional(),
});

/** How much of a report a `tail-logs` answer may take (a report is at most 256 KiB). */
export const MAX_LOG_REPLY_BYTES = 128 * 1024;
/** A longer log line is cut here in a `tail-logs` answer. */
export const MAX_LOG_LINE_BYTES = 2 * 1024;

/**
 * The router's totals of the app's route since the agent started, never going backwards (the
 * router forgets a retired backend's counts; these keep them): what the server's metrics expose
 * (docs/metrics.md). Requests held and connections open are the last reading's.
 */
export const routeTotalsSchema = z.object({
  releases: z
    .array(
      z.object({
        version: z.string(),
        responses: z.object({ '1xx': count, '2xx': count, '3xx': count, '4xx': count, '5xx': count }),
        upstreamErrors: count,
        latency: z
          .object({ le: z.array(z.number()).max(64), counts: z.array(count).max(65), sum: z.number().min(0) })
          .nullable(),
        inFlight: count,
      }),
    )
    .max(64),
  held: count,
  connections: count,
});

export const appReportSchema = z.object({
  app: z.string(),
  env: z.string(),
  /** Where the app's route listens (host:port). Absent from an older agent's. */
  listen: z.string().optional(),
  /**
   * The digest of the spec the app's host runs with (its desired entry's, once applied): the
   * control plane's acknowledgement of a `ferry apply`. Absent from an older agent's.
   */
  spec: z.string().optional(),
  releases: z.array(releaseReportSchema),
  instances: z.array(instanceReportSchema),
  current: z.string().nullable(),
  /** The route's weight per release as the agent set it. */
  traffic: z.array(z.object({ version: z.string(), weight: z.number().min(0) })),
  /** Null while the router cannot be read (being replaced): the next report has it. */
  route: routeCountersSchema.nullable(),
  /** Absent from an older agent's, and before the agent read its router. */
  totals: routeTotalsSchema.optional(),
  tasks: z.array(taskReportSchema),
});

/**
 * The host's router as its agent watches it: running, restarting (its keeper being replaced; the
 * workers serve meanwhile) or down (nothing answers: the host serves nothing), with the last
 * problem. An agent of an older Ferry does not send it.
 */
export const ROUTER_STATES = ['running', 'restarting', 'down'] as const;
export const routerReportSchema = z.object({
  state: z.enum(ROUTER_STATES),
  pid: z.number().int().nullable(),
  restarts: count,
  error: z.string().max(1_000).nullable(),
  /** The process tree as `ferry status` shows it (absent from an older agent's): its version, */
  version: z.string().max(100).nullable().optional(),
  /** when its keeper started (ms since the epoch), */
  startedAt: z.number().int().nullable().optional(),
  /** its workers, */
  workers: z
    .array(
      z.object({
        pid: z.number().int().nullable(),
        state: z.string().max(100),
        startedAt: z.number().int().nullable(),
        restarts: count,
        crashLoop: z.boolean(),
      }),
    )
    .max(256)
    .optional(),
  /** and the warm spare that takes a dead worker's place. */
  spare: z
    .object({ pid: z.number().int().nullable(), state: z.string().max(100) })
    .nullable()
    .optional(),
});

const sequenced = {
  /** Its order in the agent's journal (acknowledged once a report carrying it was taken). */
  seq: z.number().int().min(1),
  /** When it happened (the agent's clock). */
  at: z.number().int(),
};
const hostEventBase = { ...sequenced, app: z.string(), env: z.string() };

/**
 * What happened on the host between reports, in order: an instance's process changed, an
 * instance's health changed, or a note for its app's events (a crash with its restart delay, a
 * crash loop). State is what reports say; these are the changes a report alone cannot tell (a
 * crash and its restart between two reports).
 */
export const hostEventSchema = z.discriminatedUnion('kind', [
  z.object({
    ...hostEventBase,
    kind: z.literal('instance'),
    instance: id,
    version: z.string(),
    state: z.enum(INSTANCE_CHANGES),
    pid: z.number().int().nullable(),
    restarts: count,
    detail: z.string().max(MAX_EVENT_TEXT).nullable(),
  }),
  z.object({
    ...hostEventBase,
    kind: z.literal('health'),
    instance: id,
    version: z.string(),
    health: z.enum(HEALTH_STATUSES),
    detail: z.string().max(MAX_EVENT_TEXT).nullable(),
  }),
  z.object({
    ...hostEventBase,
    kind: z.literal('note'),
    message: z.string().max(MAX_EVENT_TEXT),
    data: z.record(z.string(), z.unknown()),
  }),
  z.object({
    ...hostEventBase,
    kind: z.literal('install'),
    version: z.string(),
    /** Where the release was read from: its artifact's URL, the download cache, or nowhere (on disk already). */
    readFrom: z.enum(['source', 'cache', 'installed']),
    bytes: count,
    /** Whether the download cache was asked (a miss when the release came from its source). */
    cacheAsked: z.boolean(),
  }),
  z.object({
    ...sequenced,
    kind: z.literal('router'),
    change: z.enum(ROUTER_CHANGES),
    pid: z.number().int().nullable(),
    message: z.string().max(MAX_EVENT_TEXT),
  }),
]);

export const hostReportSchema = z.object({
  host: id,
  agentVersion: z.string(),
  /** The desired revision this report reflects (the agent has applied it, or is applying it). */
  revision: z.number().int().min(0),
  /** When the agent wrote it (ms since the epoch, the agent's clock). */
  at: z.number().int(),
  labels: z.record(z.string(), z.string()),
  apps: z.array(appReportSchema),
  router: routerReportSchema.optional(),
  /**
   * The events not acknowledged yet: `journal` names the agent's run (its sequence starts again at
   * each start), `dropped` counts those lost to the bound since the last report. Absent from an
   * older agent's.
   */
  events: z
    .object({
      journal: id,
      dropped: count,
      items: z.array(hostEventSchema).max(MAX_REPORTED_EVENTS),
    })
    .optional(),
});

export type InstanceReport = z.infer<typeof instanceReportSchema>;
export type ReleaseReport = z.infer<typeof releaseReportSchema>;
export type TaskReport = z.infer<typeof taskReportSchema>;
export type AppReport = z.infer<typeof appReportSchema>;
export type HostReport = z.infer<typeof hostReportSchema>;
export type RouterReport = z.infer<typeof routerReportSchema>;
export type HostEvent = z.infer<typeof hostEventSchema>;
export type RouteTotals = z.infer<typeof routeTotalsSchema>;
export type InstanceChange = (typeof INSTANCE_CHANGES)[number];
export type RouterChangeKind = (typeof ROUTER_CHANGES)[number];
