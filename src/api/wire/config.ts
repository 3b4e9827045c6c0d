/**
 * `ferry apply` over the wire: the plan of a configuration and what applying it started (see
 * deployment.ts for why schemas). No answer carries a value of the configuration: plans name fields
 * by their ferry.yaml paths, since values may be secrets.
 */
import { z } from 'zod';
import { deploymentSchema } from './deployment.js';

export const configChangeSchema = z
  .object({
    app: z.string(),
    env: z.string(),
    action: z.enum(['add', 'remove', 'keep', 'replace', 'update']).meta({
      description:
        'add, remove (with prune), keep (left the file, keeps running), replace (its instances), update (settings only).',
    }),
    fields: z
      .array(z.string())
      .meta({ description: 'What changed, as ferry.yaml paths within the app; never values.' }),
    effect: z.string().meta({ description: 'What applying does, in words.' }),
  })
  .meta({
    id: 'ConfigChange',
    description: 'What applying a configuration does to one app in one environment.',
  });

export const configPlanSchema = z
  .object({
    id: z.string().meta({
      description:
        'A digest of the plan: apply with `expect` set to it acts only if nothing changed meanwhile.',
    }),
    path: z
      .string()
      .nullable()
      .meta({ description: 'The file compared with what runs; null when the text was sent without a path.' }),
    prune: z.boolean(),
    changes: z
      .array(configChangeSchema)
      .meta({ description: 'Unchanged apps are left out: no changes, nothing to do.' }),
    refused: z.array(z.object({ code: z.string(), path: z.string(), message: z.string() })).meta({
      description:
        'Why applying would change nothing: settings that need a daemon restart, ports held, deployments running, locks holding an app it would deploy or restart.',
    }),
  })
  .meta({
    id: 'ConfigPlan',
    description: 'What applying a configuration would do (or did): docs/api.md#changing-the-configuration.',
  });

export const configApplyResponseSchema = z
  .object({
    plan: configPlanSchema,
    deployments: z
      .array(deploymentSchema)
      .meta({ description: 'The deployments applying started (initial releases, restarts).' }),
  })
  .meta({ id: 'ConfigApplyResponse' });
