/**
 * Locks and the deploys queued behind them (`ferry lock`, `ferry unlock`, `ferry locks`, `ferry
 * deploy --queue`) as they go over the wire. See deployment.ts for why schemas.
 */
import { z } from 'zod';
import { NAME_PATTERN } from '../../lib/names.js';

const ms = z.number().int();
const name = z.string().regex(NAME_PATTERN, 'expected a name of lowercase letters, digits, "-" and "_"');

export const lockSchema = z
  .object({
    env: z.string(),
    app: z.string().nullable().meta({ description: 'null: the whole environment, every app of it.' }),
    owner: z.string().meta({ description: 'Who took it: the actor of the request.' }),
    reason: z.string(),
    createdAt: ms.meta({ description: 'ms since the epoch, the server clock.' }),
    expiresAt: ms.meta({ description: 'When it ends by itself (ms since the epoch, the server clock).' }),
  })
  .meta({ id: 'Lock', description: 'A lock on an environment or on an app in it (docs/api.md#locks).' });

export const queuedDeploySchema = z
  .object({
    app: z.string(),
    env: z.string(),
    version: z.string(),
    strategy: z.enum(['blue-green', 'canary', 'all-at-once']).nullable(),
    force: z.boolean(),
    actor: z.string(),
    queuedAt: ms,
    heldBy: lockSchema.meta({ description: 'The lock that held the app when the deploy was queued.' }),
    failure: z
      .object({ code: z.string(), message: z.string(), at: ms })
      .nullable()
      .meta({ description: 'Why it did not start once no lock held it; null while it waits.' }),
  })
  .meta({ id: 'QueuedDeploy', description: 'A deploy waiting for a lock to be released or to expire.' });

export const lockBodySchema = z
  .strictObject({
    env: name,
    app: name.optional().meta({ description: 'Lock only this app in the environment.' }),
    reason: z.string().meta({ description: 'Required: one line, shown to everyone the lock refuses.' }),
    ttl: z
      .string()
      .optional()
      .meta({ description: 'How long it holds, as a duration like "2h" or "3d": 1s to 7d, default 24h.' }),
  })
  .meta({ id: 'LockBody' });

export const unlockBodySchema = z.strictObject({ env: name, app: name.optional() }).meta({
  id: 'UnlockBody',
  description: "The lock's target: an environment's lock and an app's are apart.",
});

export const locksQuerySchema = z.strictObject({
  env: z.string().min(1).optional(),
  app: z.string().min(1).optional(),
});

export const lockResponseSchema = z
  .object({
    lock: lockSchema,
    replaced: lockSchema.nullable().meta({ description: "The owner's lock it renewed, if any." }),
  })
  .meta({ id: 'LockResponse' });

export const unlockResponseSchema = z
  .object({ lock: lockSchema.meta({ description: 'The lock released.' }) })
  .meta({ id: 'UnlockResponse' });

export const locksResponseSchema = z
  .object({ locks: z.array(lockSchema), queued: z.array(queuedDeploySchema) })
  .meta({ id: 'LocksResponse', description: 'The locks that hold now and the deploys queued behind them.' });

export const queuedResponseSchema = z
  .object({
    queued: queuedDeploySchema,
    replaced: queuedDeploySchema.nullable().meta({ description: 'The deploy queued before, replaced.' }),
  })
  .meta({ id: 'QueuedResponse', description: 'The deploy was queued behind a lock (body queue: true).' });
