/** Join tokens as the operator's API answers them: never a token's secret but once, at creation. */
import { z } from 'zod';
import { labelListSchema } from './hosts.js';

const ms = z.number().int();

export const joinTokenSchema = z
  .object({
    id: z.string().meta({ description: '16 hex digits: what revoke takes.' }),
    createdAt: ms,
    expiresAt: ms,
    uses: z.number().int().meta({ description: 'How many hosts it enrolls in all.' }),
    usesLeft: z.number().int(),
    labels: labelListSchema.meta({ description: 'Labels every host it enrolls gets.' }),
    state: z.enum(['active', 'expired', 'used-up']),
  })
  .meta({ id: 'JoinToken' });

export const joinTokensResponseSchema = z
  .object({ joinTokens: z.array(joinTokenSchema) })
  .meta({ id: 'JoinTokensResponse', description: 'Every join token not revoked, oldest first.' });

export const joinTokenCreateResponseSchema = z
  .object({
    token: z.string().meta({
      description: 'ferry-join.<id>.<secret>: shown this once; the server keeps only its hash.',
    }),
    joinToken: joinTokenSchema,
    agents: z
      .object({
        url: z.string().meta({ description: "The server's address for agents (ferry agent --server)." }),
        caFingerprint: z
          .string()
          .meta({ description: 'sha256:<hex> of the CA agents pin (ferry agent --ca-fingerprint).' }),
      })
      .nullable()
      .meta({ description: 'Where agents reach this server; null when it serves no agents.' }),
  })
  .meta({ id: 'JoinTokenCreateResponse' });

export const joinTokenRevokeResponseSchema = z
  .object({ joinToken: joinTokenSchema })
  .meta({ id: 'JoinTokenRevokeResponse', description: 'The join token as it was; it enrolls no one now.' });
