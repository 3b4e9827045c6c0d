/** The hosts as `ferry hosts` shows them: each agent, when it was last heard from, what it runs. */
import { z } from 'zod';
import { ROUTER_STATES } from '../../protocol/report.js';

const count = z.number().int().min(0);
const ms = z.number().int();

/** Labels as the API answers them: pairs, by key (a key may be any label key, `constructor` too). */
export const labelListSchema = z.array(z.object({ key: z.string(), value: z.string() }));

export const hostViewSchema = z
  .object({
    id: z.string(),
    name: z.string().meta({
      description: 'The name it enrolled under; its id for a host that is not enrolled (local in ferry up).',
    }),
    lastSeenAt: ms
      .nullable()
      .meta({ description: 'ms since the epoch, the server clock; null: never heard from.' }),
    lastSeen: z.string().nullable().meta({ description: 'The same, as ISO 8601.' }),
    address: z
      .string()
      .nullable()
      .meta({ description: 'Where its last request came from ("in-process" in ferry up).' }),
    agentVersion: z.string().nullable(),
    labels: labelListSchema.meta({
      description: 'An enrolled host: those it enrolled with; otherwise those its agent reports.',
    }),
    desiredRevision: count
      .nullable()
      .meta({ description: 'The revision of its desired state in the store.' }),
    reportedRevision: count
      .nullable()
      .meta({ description: 'The desired revision its last report reflects.' }),
    enrolledAt: ms.nullable().meta({
      description: 'When it enrolled (ms since the epoch); null: not enrolled (local in ferry up).',
    }),
    joinTokenId: z.string().nullable().meta({ description: 'The join token that enrolled it.' }),
    revokedAt: ms
      .nullable()
      .meta({ description: 'When it was revoked (ms since the epoch); null: not revoked.' }),
    router: z
      .object({
        state: z.enum(ROUTER_STATES),
        pid: z.number().int().nullable(),
        restarts: count,
        error: z.string().nullable(),
      })
      .nullable()
      .meta({
        description:
          'Its router as its last report says (running; restarting: its keeper is being replaced while the workers serve; down: it serves nothing); null: not reported (an older agent, or never heard from).',
      }),
    apps: z.array(
      z.object({
        app: z.string(),
        env: z.string(),
        current: z.string().nullable(),
        versions: z.array(z.string()).meta({ description: 'The releases its serving instances run.' }),
        instances: count,
        healthy: count,
      }),
    ),
  })
  .meta({ id: 'HostView' });

export const hostsResponseSchema = z.object({ hosts: z.array(hostViewSchema) }).meta({
  id: 'HostsResponse',
  description:
    'Every enrolled host (revoked ones included) and every host heard from since the server started, by name.',
});

/** A host as enrollment keeps it: never its credential. */
export const enrolledHostSchema = z
  .object({
    id: z.string(),
    name: z.string(),
    labels: labelListSchema,
    enrolledAt: ms,
    joinTokenId: z.string(),
    revokedAt: ms.nullable(),
  })
  .meta({ id: 'EnrolledHost' });

export const hostRevokeResponseSchema = z
  .object({
    host: enrolledHostSchema,
    alreadyRevoked: z
      .boolean()
      .meta({ description: 'True: it was revoked before (at revokedAt) and nothing changed.' }),
  })
  .meta({ id: 'HostRevokeResponse' });
