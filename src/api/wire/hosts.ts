/** The hosts as `ferry hosts` shows them: each agent, when it was last heard from, what it runs. */
import { z } from 'zod';

const count = z.number().int().min(0);

export const hostViewSchema = z
  .object({
    id: z.string(),
    lastSeenAt: z.number().int().meta({ description: 'ms since the epoch, the server clock.' }),
    lastSeen: z.string().meta({ description: 'The same, as ISO 8601.' }),
    address: z.string().meta({ description: 'Where its last request came from ("in-process" in ferry up).' }),
    agentVersion: z.string().nullable(),
    labels: z.array(z.object({ key: z.string(), value: z.string() })),
    desiredRevision: count
      .nullable()
      .meta({ description: 'The revision of its desired state in the store.' }),
    reportedRevision: count
      .nullable()
      .meta({ description: 'The desired revision its last report reflects.' }),
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

export const hostsResponseSchema = z
  .object({ hosts: z.array(hostViewSchema) })
  .meta({ id: 'HostsResponse', description: 'Every host heard from since the server started, by id.' });
