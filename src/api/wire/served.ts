/** The served-request report as it goes over the wire (src/engine/served-report.ts computes it). */
import { z } from 'zod';
import { PHASES } from '../../engine/types.js';

const ms = z.number().int();
const count = z.number().int().min(0);

const failureCountsSchema = z
  .object({
    serverError: count.meta({ description: "5xx answers of the app's instances." }),
    reset: count.meta({
      description:
        'Upstream errors the router answered 502 (connection reset or refused), or responses cut short.',
    }),
    timeout: count.meta({ description: 'Upstream timeouts the router answered 504.' }),
    held: count.meta({
      description: 'Requests held with no healthy instance, then answered 503 by the router.',
    }),
  })
  .meta({ id: 'FailureCounts', description: 'Failed requests by kind.' });

const servedCounts = {
  served: count.meta({ description: 'Requests answered, by an instance or by the router.' }),
  failed: count.meta({ description: 'Of them, failed: the sum of failures.' }),
  failures: failureCountsSchema,
};

const releaseServedSchema = z
  .object({ version: z.string(), ...servedCounts })
  .meta({ id: 'ReleaseServed', description: "The requests that reached one release's instances." });

const servedTotals = {
  ...servedCounts,
  rejected: count.meta({
    description: 'Answered 400 by the router (not valid to forward): served, not failed.',
  }),
  abandoned: count.meta({
    description: 'Clients that went away before their answer: neither served nor failed.',
  }),
  releases: z.array(releaseServedSchema),
};

const servedStepSchema = z
  .object({
    ...servedTotals,
    phase: z.enum(PHASES),
    step: count.nullable().meta({ description: 'The canary step (0-based) while shifting; null otherwise.' }),
    weight: z.number().meta({ description: 'Percent of the traffic on the new release.' }),
    since: ms,
    until: ms,
  })
  .meta({ id: 'ServedStep', description: 'One span of a deployment with one phase, canary step and share.' });

export const servedReportSchema = z
  .object({
    ...servedTotals,
    since: ms,
    until: ms,
    final: z
      .boolean()
      .meta({ description: 'The deployment ended and the report with it: the counts are complete.' }),
    steps: z.array(servedStepSchema),
    routerRestarts: count.meta({
      description:
        "Times the router's counters started afresh during the window: what it counted last is missing.",
    }),
    error: z.string().nullable().meta({
      description: "Why the router's counters could not be read at the last try; null when they were.",
    }),
  })
  .meta({
    id: 'ServedReport',
    description: 'Requests served and failed from the deployment start to its end, per release and per step.',
  });
