/**
 * The agent protocol's first message: what one host should run, written by the control plane and
 * reconciled by that host's agent. It is declarative on purpose: the control plane never calls into
 * a host, it edits this document (compare-and-swap on its store revision) and reads the host's
 * reports (report.ts). The same messages go over HTTP(S) to a `ferry agent` and through the
 * in-process transport inside `ferry up`.
 */
import { z } from 'zod';

const name = z.string().min(1).max(200);

/** The most lines of each instance's log a `tail-logs` task asks for. */
export const MAX_TAIL_LINES = 1000;
/** The most instances of one app on one host a follow reads (`ferry logs -f`): its cursor's bound. */
export const MAX_FOLLOWED_INSTANCES = 64;
const id = z.string().min(1).max(200);

/**
 * How the app runs on this host: its section of ferry.yaml as the server has it, compiled by the
 * agent with the one config schema (so no second copy of the schema exists), and its digest (the
 * agent restarts instances whose run digest differs).
 */
export const appSpecSchema = z.object({
  config: z.record(z.string(), z.unknown()),
  digest: z.string().min(1),
});

/** One release the host should hold, with what should run of it. */
export const releaseOnHostSchema = z.object({
  version: z.string().min(1).max(128),
  /**
   * Where the agent fetches it when not from the app's configured artifact (a release recorded by
   * hand, a webhook's url, a watcher's find); null: the app's artifact settings with this version
   * (its headers and checksums too). `headers` go with the request to this URL's origin only (a
   * watcher's credentials: a GitHub token for a private repository's asset); without them, the
   * app's artifact headers go only where the app's artifact URL points (the same origin).
   */
  artifact: z
    .object({
      url: z.string().min(1),
      checksum: z.string().nullable(),
      headers: z.record(z.string(), z.string()).optional(),
    })
    .nullable(),
  /** Serving instances wanted, not counting `retire` (0: installed, nothing runs). */
  instances: z.number().int().min(0),
  /** Instances to take out of the route, drain and stop (a restart's old ones). */
  retire: z.array(id),
  /** The release's share of the app's traffic on this host (weights are relative). */
  weight: z.number().min(0),
  /** Its new instances count as healthy at their first passing check (a rollback to a known release). */
  quickHealth: z.boolean().optional(),
  /**
   * A restart asked by the control plane (`ferry restart` on enrolled hosts), by id: the agent
   * replaces the instances that served when it first saw this id, one at a time, each new one
   * healthy before an old one leaves; its report says `restarted: <id>` once done. A new id asks
   * again; absent: no restart (older agents ignore it).
   */
  restart: id.optional(),
});

/**
 * Work the host does once and acknowledges by id (a hook run, pruning): re-sent until a report
 * carries its result, never run twice for one id (the agent keeps the results it reported).
 */
export const hostTaskSchema = z.discriminatedUnion('type', [
  z.object({
    id,
    type: z.literal('run-hook'),
    hook: z.string().min(1),
    version: z.string().min(1),
    /** What the hook gets on stdin (a deployment's event log for success and failure hooks). */
    stdin: z.string().optional(),
    /** Variables naming the deployment (FERRY_DEPLOYMENT_ID...). */
    vars: z.record(z.string(), z.string()),
  }),
  z.object({ id, type: z.literal('prune'), keep: z.number().int().min(0), protect: z.array(z.string()) }),
  /**
   * The last lines of each instance's log, answered in the task's report (`ferry logs`) with the
   * byte offset each was read up to. With `after` (`ferry logs -f`: the offsets of the last
   * answer), the lines after them instead: an instance it does not name (started since) from the
   * start of its log, one it names that stopped until the end of its log (then the answer no
   * longer names it). An older agent ignores `after` (its answer has no offsets).
   */
  z.object({
    id,
    type: z.literal('tail-logs'),
    lines: z.number().int().min(1).max(MAX_TAIL_LINES),
    after: z
      .array(
        z.object({
          instance: id,
          /** Its release, which the answer repeats for an instance that stopped. */
          version: z.string().max(200),
          offset: z.number().int().min(0),
        }),
      )
      .max(MAX_FOLLOWED_INSTANCES)
      .optional(),
  }),
]);

export const appOnHostSchema = z.object({
  app: name,
  env: name,
  spec: appSpecSchema,
  releases: z.array(releaseOnHostSchema),
  /** The release the `current` symlink points at (null: leave it). */
  current: z.string().nullable(),
  /** Releases leaving at once, without waiting for their requests to drain (a forced end). */
  stopNow: z.array(z.string()),
  tasks: z.array(hostTaskSchema),
});

export const hostDesiredStateSchema = z.object({
  host: id,
  /** The store revision of this document: reports say which one they reflect. */
  revision: z.number().int().min(0),
  apps: z.array(appOnHostSchema),
});

export type AppSpec = z.infer<typeof appSpecSchema>;
export type ReleaseOnHost = z.infer<typeof releaseOnHostSchema>;
export type HostTask = z.infer<typeof hostTaskSchema>;
export type AppOnHost = z.infer<typeof appOnHostSchema>;
export type HostDesiredState = z.infer<typeof hostDesiredStateSchema>;
