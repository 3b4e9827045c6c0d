/**
 * What the API accepts: request bodies, path parameters and queries. The routes validate with these
 * schemas and the OpenAPI document is generated from them: what is documented is what is checked.
 */
import { z } from 'zod';
import { percent, version } from '../../config/fields.js';
import { describeValue } from '../../errors/ferry-error.js';
import { parseDuration } from '../../lib/duration.js';
import {
  MAX_JOIN_TOKEN_TTL_MS,
  MAX_JOIN_TOKEN_USES,
  MIN_JOIN_TOKEN_TTL_MS,
} from '../../server/trust/join-tokens.js';
import { COMMANDS } from '../types.js';

const envName = z.string().min(1);

export const deployBodySchema = z
  .strictObject({
    app: z.string().min(1),
    env: envName.optional(),
    version,
    strategy: z.enum(['blue-green', 'canary', 'all-at-once']).optional(),
    /** Deploy a release the ledger marks bad (refused otherwise: FERRY_E_RELEASE_BAD). */
    force: z.boolean().optional(),
    queue: z.boolean().optional().meta({
      description:
        'While a lock holds the app: queue the deploy until the lock is released or expires (answered with `queued`) instead of refusing it (FERRY_E_LOCKED).',
    }),
    dryRun: z.boolean().optional().meta({
      description:
        'An environment on enrolled hosts: answer the rollout plan (batches, the hosts in each, budgets, gates) and change nothing.',
    }),
  })
  .meta({ id: 'DeployBody' });

export const rollbackBodySchema = z
  .strictObject({ app: z.string().min(1), env: envName.optional(), to: version.optional() })
  .meta({ id: 'RollbackBody' });

/** A percent of traffic as ferry.yaml writes it: 30 or "30%", above 0 and at most 100. */
const weight = percent.meta({
  description: 'Percent of the requests for the canary: 30 or "30%", above 0 and at most 100.',
  anyOf: [
    { type: 'number', exclusiveMinimum: 0, maximum: 100 },
    { type: 'string', pattern: '^\\s*\\d+(\\.\\d+)?%?\\s*$' },
  ],
});

export const canaryBodySchema = z
  .strictObject({ env: envName.optional(), weight })
  .meta({ id: 'CanaryWeightBody' });

export const commandBodySchema = z
  .strictObject({
    env: envName.optional(),
    /** abort only: end the deployment at once in any phase, without waiting on what is failing. */
    force: z.boolean().optional(),
    /**
     * pause, resume and promote of an environment on enrolled hosts: only this host's own deployment
     * (its canary), by id or name, not the rollout.
     */
    host: z.string().min(1).max(200).optional(),
  })
  .prefault({})
  .meta({ id: 'CommandBody' });

/** The body of POST /v1/apps/:app/restart. */
export const restartBodySchema = z
  .strictObject({ env: envName.optional() })
  .prefault({})
  .meta({ id: 'RestartBody' });

/**
 * The body of POST /v1/config/plan and /v1/config/apply. Without `config` the daemon reads the file
 * it was started with again (as SIGHUP does).
 */
export const configBodySchema = z
  .strictObject({
    /** The text of a ferry.yaml (the CLI sends the file it was given). */
    config: z
      .string()
      .optional()
      .meta({ description: 'The text of a ferry.yaml (its secrets included: never logged or answered).' }),
    path: z.string().startsWith('/', 'expected an absolute path').optional().meta({
      description: "The file's absolute path: relative paths in it are resolved against its directory.",
    }),
    prune: z.boolean().optional().meta({
      description: 'Stop the apps that left the file (otherwise they keep running, shown as not in config).',
    }),
    expect: z.string().min(1).optional().meta({
      description:
        "apply only: the plan's id as /v1/config/plan returned it; refused if the plan changed since.",
    }),
  })
  .prefault({})
  .meta({ id: 'ConfigBody' });

const ttlProblem = (value: unknown) =>
  `expected a duration from 1s to 365d like "1h", got ${describeValue(typeof value === 'string' ? value.slice(0, 40) : value)}`;

/** How long a join token enrolls: a duration from 1s to 365d, in ms once parsed. */
const joinTokenTtl = z
  .string({ error: (issue) => ttlProblem(issue.input) })
  .transform((text, ctx) => {
    const ms = parseDuration(text);
    if (ms === undefined || ms < MIN_JOIN_TOKEN_TTL_MS || ms > MAX_JOIN_TOKEN_TTL_MS) {
      ctx.addIssue({ code: 'custom', message: ttlProblem(text) });
      return z.NEVER;
    }
    return ms;
  })
  .meta({ description: 'How long it enrolls hosts: a duration from 1s to 365d ("30m", "1h", "7d").' });

const usesProblem = (issue: { input: unknown }) =>
  `expected a whole number from 1 to ${MAX_JOIN_TOKEN_USES}, got ${describeValue(issue.input)}`;
const joinTokenUses = z
  .number({ error: usesProblem })
  .int({ error: usesProblem })
  .min(1, { error: usesProblem })
  .max(MAX_JOIN_TOKEN_USES, { error: usesProblem });

/** The body of POST /v1/join-tokens. */
export const joinTokenCreateBodySchema = z
  .strictObject({
    ttl: joinTokenTtl,
    uses: joinTokenUses.optional().meta({ description: 'How many hosts it enrolls (default 1).' }),
    labels: z.record(z.string(), z.string()).optional().meta({
      description: 'Labels every host it enrolls gets, e.g. {"role": "web"}; an agent cannot change them.',
    }),
  })
  .meta({ id: 'JoinTokenCreateBody' });

export const appParamsSchema = z.strictObject({ app: z.string() });
export const commandParamsSchema = z.strictObject({ app: z.string(), command: z.enum(COMMANDS) });
export const idParamsSchema = z.strictObject({ id: z.string() });
export const hostParamsSchema = z.strictObject({
  host: z.string().meta({ description: "The host's id or its name." }),
});

export const statusQuerySchema = z.strictObject({ app: z.string().optional(), env: z.string().optional() });
export const rolloutQuerySchema = z.strictObject({ env: envName.optional() });
export const historyQuerySchema = z.strictObject({
  env: envName.optional(),
  limit: z.coerce.number().int().min(1).max(1000).default(20),
});
export const logsQuerySchema = z.strictObject({
  env: envName.optional(),
  lines: z.coerce.number().int().min(1).max(10_000).default(100),
  follow: z.enum(['0', '1', 'true', 'false']).optional(),
});
export const eventsQuerySchema = z.strictObject({
  app: z.string().min(1).optional(),
  env: envName.optional(),
});
