/**
 * Releases as the API takes and answers them: a release recorded by hand (POST
 * /v1/apps/:app/releases), the catalog with each environment's ledger status (GET), and the trigger
 * that every release, deployment and rollout names.
 */
import { z } from 'zod';
import { parseChecksum } from '../../artifacts/checksum.js';
import { artifactUrlProblem } from '../../config/checks.js';
import { version } from '../../config/fields.js';
import { isFerryError } from '../../errors/ferry-error.js';
import { RELEASE_STATUSES } from '../../store/store.js';
import { triggerSchema } from './trigger.js';

const ms = z.number().int();

/** An artifact URL as ferry.yaml's artifact.url takes it (the same check), without {version} needed. */
const artifactUrl = z.string().superRefine((value, ctx) => {
  const problem = artifactUrlProblem(value);
  if (problem !== null) ctx.addIssue({ code: 'custom', message: problem });
});

/** A checksum as the artifact pipeline parses it: `sha256:<hex>` (or bare hex of a known length). */
const checksum = z.string().superRefine((value, ctx) => {
  try {
    parseChecksum(value);
  } catch (error) {
    if (!isFerryError(error, 'FERRY_E_CHECKSUM_INVALID')) throw error;
    ctx.addIssue({
      code: 'custom',
      message: `expected ${String(error.details.expected)}, got ${JSON.stringify(value.slice(0, 140))}`,
    });
  }
});

export const releaseAddBodySchema = z
  .strictObject({
    version,
    url: artifactUrl.optional().meta({
      description:
        "The artifact's URL (https, s3, gs, file...); without it the app's artifact.url with {version}.",
    }),
    checksum: checksum.optional().meta({ description: '`sha256:<hex>`; only with url.' }),
    changelog: z.string().max(16_384).optional(),
    env: z.string().min(1).optional().meta({
      description:
        'The one environment to deploy to; without it every one whose policy deploys new releases.',
    }),
    deploy: z.boolean().default(true).meta({
      description: 'false: record the release in the catalog only, deploy it nowhere.',
    }),
  })
  .meta({ id: 'ReleaseAddBody' });

export const releasesQuerySchema = z.strictObject({
  limit: z.coerce.number().int().min(1).max(1000).default(20),
});

export const catalogEntrySchema = z
  .object({
    app: z.string(),
    version: z.string(),
    artifact: z
      .object({
        url: z.string().meta({ description: 'Redacted: no credentials.' }),
        checksum: z.string().nullable(),
      })
      .nullable()
      .meta({ description: "null: fetched from the app's artifact.url with {version}." }),
    changelog: z.string().nullable(),
    publishedAt: ms.nullable().meta({ description: 'When its source published it; null when unknown.' }),
    recordedAt: ms,
    trigger: triggerSchema,
  })
  .meta({ id: 'CatalogEntry', description: 'A release Ferry knows of, as its catalog keeps it.' });

export const intakeOutcomeSchema = z
  .object({
    env: z.string(),
    action: z.enum(['deployed', 'queued', 'waiting', 'skipped']),
    reason: z.string().nullable(),
    deployment: z
      .string()
      .nullable()
      .meta({ description: "The deployment's or rollout's id when one started." }),
  })
  .meta({ id: 'IntakeOutcome', description: 'What the intake did with the release in one environment.' });

export const releaseAddResponseSchema = z
  .object({
    release: catalogEntrySchema,
    outcomes: z.array(intakeOutcomeSchema).meta({ description: 'Empty with deploy: false.' }),
  })
  .meta({ id: 'ReleaseAddResponse' });

export const releaseEnvStatusSchema = z
  .object({
    env: z.string(),
    status: z
      .enum(RELEASE_STATUSES)
      .nullable()
      .meta({ description: "The release ledger's status there; null: never deployed there." }),
    current: z.boolean().meta({ description: 'It is the release serving there.' }),
  })
  .meta({ id: 'ReleaseEnvStatus' });

export const catalogReleaseSchema = catalogEntrySchema
  .extend({ environments: z.array(releaseEnvStatusSchema) })
  .meta({
    id: 'CatalogRelease',
    description: "A release of the catalog and where it stands in each of the app's environments.",
  });

export const releasesResponseSchema = z
  .object({ releases: z.array(catalogReleaseSchema) })
  .meta({ id: 'ReleasesResponse', description: 'Newest first (by publication, else by when recorded).' });
