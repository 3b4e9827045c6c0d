/**
 * What the API accepts: request bodies, path parameters and queries. The routes validate with these
 * schemas and the OpenAPI document is generated from them: what is documented is what is checked.
 */
import { z } from 'zod';
import { percent, version } from '../../config/fields.js';
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

export const appParamsSchema = z.strictObject({ app: z.string() });
export const commandParamsSchema = z.strictObject({ app: z.string(), command: z.enum(COMMANDS) });
export const idParamsSchema = z.strictObject({ id: z.string() });

export const statusQuerySchema = z.strictObject({ app: z.string().optional(), env: z.string().optional() });
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
