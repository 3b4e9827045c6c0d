import type { OutcomeReading } from '../../engine/served-report.js';
import type { ReleaseObservation } from '../../engine/types.js';
import { FerryError } from '../../errors/ferry-error.js';
import type { AppReport, InstanceReport } from '../../protocol/report.js';

/** The serving (not retiring) instances of a release in a report, less those excluded. */
export function servingInstances(
  report: AppReport,
  version: string,
  exclude: readonly string[] = [],
): InstanceReport[] {
  const excluded = new Set(exclude);
  return report.instances.filter(
    (i) => i.version === version && i.state !== 'retiring' && !excluded.has(i.id),
  );
}

/**
 * A release's instances as the engine judges them, from the host's report: running, healthy, and
 * failed for good (crash-looping, or unhealthy past the threshold), with the evidence of a failing one.
 */
export function observeRelease(
  report: AppReport,
  version: string,
  desired: number,
  exclude: readonly string[] = [],
): ReleaseObservation {
  const mine = servingInstances(report, version, exclude);
  const isFailed = (i: InstanceReport) => i.state === 'crash-loop' || i.health === 'unhealthy';
  const observation: ReleaseObservation = {
    version,
    desired,
    running: mine.filter((i) => i.state === 'running' || i.state === 'starting').length,
    healthy: mine.filter((i) => i.health === 'healthy').length,
    failed: mine.filter(isFailed).length,
  };
  const failing =
    mine.find((i) => isFailed(i) && i.evidence) ?? mine.find((i) => i.evidence && i.health !== 'healthy');
  if (failing?.evidence === undefined) return observation;
  return {
    ...observation,
    evidence: {
      instanceId: failing.id,
      ...(failing.evidence.health !== undefined ? { health: failing.evidence.health } : {}),
      logTail: failing.evidence.logTail,
    },
  };
}

/** The route's request outcomes in a report (the served-request report's reading). */
export function outcomesOf(report: AppReport): OutcomeReading {
  if (report.route === null)
    throw new FerryError(
      'FERRY_E_ROUTER_UNREACHABLE',
      `the router's counters of ${report.app}.${report.env} could not be read`,
    );
  return { epoch: report.route.epoch, counts: report.route.outcomes };
}
