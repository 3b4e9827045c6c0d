/** `ferry restart` on an environment of enrolled hosts: the restart as the API answers and shows it. */
import { z } from 'zod';

export const FLEET_RESTART_STATES = ['running', 'succeeded', 'failed'] as const;
export const RESTART_HOST_STATES = ['waiting', 'restarting', 'restarted', 'failed'] as const;

export const fleetRestartSchema = z
  .object({
    id: z.string(),
    app: z.string(),
    env: z.string(),
    actor: z.string(),
    state: z.enum(FLEET_RESTART_STATES),
    /** At most this many hosts restart at once (`rollout.restart_at_once`). */
    atOnce: z.number().int(),
    startedAt: z.number().int(),
    finishedAt: z.number().int().nullable(),
    /** Every host in the order it restarts (or waits to). */
    hosts: z.array(
      z.object({
        host: z.string(),
        state: z.enum(RESTART_HOST_STATES),
        startedAt: z.number().int().nullable(),
        finishedAt: z.number().int().nullable(),
      }),
    ),
    /** Why it stopped: the host that failed and the evidence its report gave. */
    failure: z.object({ host: z.string(), code: z.string(), message: z.string() }).nullable(),
  })
  .meta({ id: 'FleetRestart' });

export const fleetRestartResponseSchema = z
  .object({ restart: fleetRestartSchema })
  .meta({ id: 'FleetRestartResponse' });

export type FleetRestartView = z.infer<typeof fleetRestartSchema>;
export type FleetRestartResponse = z.infer<typeof fleetRestartResponseSchema>;
