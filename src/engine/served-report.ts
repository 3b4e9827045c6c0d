/**
 * Pure: the served-request report of a deployment. The router counts what became of every client
 * request (cumulative counters per route and release); the runtime reads them at the deployment's
 * start, at every step's end, now and then in between, and at its end, and folds the differences
 * into the report here: totals, per release, and per step (a span with one phase, canary step and
 * traffic share). Readings are differences of cumulative counters, so a reading that comes late
 * loses nothing; only a router that starts its counters afresh (a new epoch) loses what it counted
 * since the last reading.
 */
import type { DeploymentState, Phase } from './types.js';

/** The cumulative request outcomes of one route, as the router reports them. */
export interface OutcomeCounts {
  readonly releases: readonly ReleaseOutcomeCounts[];
  /** Held while no instance was usable, then answered 503 by the router. */
  readonly held: number;
  /** Answered 400 by the router (not valid to forward). */
  readonly rejected: number;
  /** The client went away before its answer. */
  readonly abandoned: number;
}

export interface ReleaseOutcomeCounts {
  readonly version: string;
  /** Answers of its instances below 500 that reached the client whole. */
  readonly answered: number;
  /** 5xx answers of its instances. */
  readonly serverError: number;
  /** Answered 502 by the router, or cut short: the connection to the instance broke. */
  readonly reset: number;
  /** Answered 504 by the router, or cut short: the instance did not answer in time. */
  readonly timeout: number;
}

/** One reading of the router's counters: `epoch` changes when the router starts its counters afresh. */
export interface OutcomeReading {
  readonly epoch: string | null;
  readonly counts: OutcomeCounts;
}

/** Failed requests by kind. */
export interface FailureCounts {
  /** 5xx answers of the app's instances. */
  readonly serverError: number;
  /** Upstream errors the router answered 502 (connection reset or refused), or responses cut short. */
  readonly reset: number;
  /** Upstream timeouts the router answered 504. */
  readonly timeout: number;
  /** Requests held with no healthy instance, then answered 503 by the router. */
  readonly held: number;
}

export interface ServedCounts {
  /** Requests answered, by an instance or by the router (whatever the answer). */
  readonly served: number;
  /** Of them, failed: the sum of `failures`. */
  readonly failed: number;
  readonly failures: FailureCounts;
}

export interface ReleaseServed extends ServedCounts {
  readonly version: string;
}

export interface ServedTotals extends ServedCounts {
  /** Answered 400 by the router (not valid to forward): served, and not failed. */
  readonly rejected: number;
  /** Clients that went away before their answer: neither served nor failed. */
  readonly abandoned: number;
  /** Per release, the requests that reached its instances (held ones reached none). */
  readonly releases: readonly ReleaseServed[];
}

/** What identifies a step of the report: a span with one phase, canary step and traffic share. */
export interface StepKey {
  readonly phase: Phase;
  /** The canary step (0-based) while shifting; null in every other phase. */
  readonly step: number | null;
  /** Percent of the traffic on the new release. */
  readonly weight: number;
}

export interface ServedStep extends ServedTotals, StepKey {
  readonly since: number;
  readonly until: number;
}

export interface ServedReport extends ServedTotals {
  /** The window: from the deployment's start to the last reading (ms since the epoch). */
  readonly since: number;
  readonly until: number;
  /** The deployment ended and the report with it: the counts are complete. */
  readonly final: boolean;
  readonly steps: readonly ServedStep[];
  /**
   * Times the router's counters started afresh during the window (a whole new router after a
   * crash): what it counted between the last reading and its end is missing.
   */
  readonly routerRestarts: number;
  /** Why the router's counters could not be read at the last try; null when they were. */
  readonly error: string | null;
}

/** The report with where its counting stands: persisted with the deployment, so a restart resumes it. */
export interface ServedReportRecord {
  readonly report: ServedReport;
  /** The router's counters at the last reading; null before the first one succeeded. */
  readonly cursor: OutcomeReading | null;
}

const NO_FAILURES: FailureCounts = { serverError: 0, reset: 0, timeout: 0, held: 0 };

const EMPTY_TOTALS: ServedTotals = {
  served: 0,
  failed: 0,
  failures: NO_FAILURES,
  rejected: 0,
  abandoned: 0,
  releases: [],
};

/** The step a deployment state is in, for the report. */
export function stepKeyOf(state: DeploymentState): StepKey {
  return { phase: state.phase, step: state.phase === 'shifting' ? state.step : null, weight: state.weight };
}

/** True when both name the same step (phase, canary step and share). */
export function isSameStep(a: StepKey, b: StepKey): boolean {
  return a.phase === b.phase && a.step === b.step && a.weight === b.weight;
}

/** An empty report, counting from `at` in the step `key`; the first reading sets the baseline. */
export function openServedReport(at: number, key: StepKey): ServedReportRecord {
  return {
    report: {
      ...EMPTY_TOTALS,
      since: at,
      until: at,
      final: false,
      steps: [{ ...EMPTY_TOTALS, ...key, since: at, until: at }],
      routerRestarts: 0,
      error: null,
    },
    cursor: null,
  };
}

/**
 * Folds a reading taken at `at` into the report: what the router counted since the last reading
 * goes to the step that was open, then a new step opens if the deployment is in another one now.
 * A failed reading (a string: why) only records the error; the next one counts what it missed.
 */
export function recordReading(
  record: ServedReportRecord,
  reading: OutcomeReading | string,
  at: number,
  key: StepKey,
): ServedReportRecord {
  if (record.report.final) return record;
  if (typeof reading === 'string')
    return { ...record, report: moveToStep({ ...record.report, error: reading }, at, key) };
  const { cursor } = record;
  let report: ServedReport = { ...record.report, error: null };
  let next: OutcomeReading;
  if (cursor === null) {
    // The baseline: everything counted before it belongs to earlier deployments.
    next = reading;
  } else if (cursor.epoch !== reading.epoch) {
    // A new router counting from zero: all it counted is new; what the old one counted since the
    // last reading is lost.
    report = addToReport({ ...report, routerRestarts: report.routerRestarts + 1 }, reading.counts, at);
    next = reading;
  } else {
    report = addToReport(report, difference(cursor.counts, reading.counts), at);
    // A sum that dipped (a worker's counts briefly missing) must not be counted again when it returns.
    next = { epoch: reading.epoch, counts: highest(cursor.counts, reading.counts) };
  }
  return { report: moveToStep({ ...report, until: at }, at, key), cursor: next };
}

/** The deployment ended: the report is complete and takes no more readings. */
export function endServedReport(record: ServedReportRecord, at: number): ServedReportRecord {
  if (record.report.final) return record;
  const steps = record.report.steps.map((s, n, all) => (n === all.length - 1 ? { ...s, until: at } : s));
  return { ...record, report: { ...record.report, steps, until: at, final: true } };
}

/** Closes the open step at `at` and opens one for `key`, unless the deployment is still in it. */
function moveToStep(report: ServedReport, at: number, key: StepKey): ServedReport {
  const open = report.steps[report.steps.length - 1];
  if (open !== undefined && isSameStep(open, key)) return report;
  const closed = report.steps.map((s, n, all) => (n === all.length - 1 ? { ...s, until: at } : s));
  return { ...report, steps: [...closed, { ...EMPTY_TOTALS, ...key, since: at, until: at }] };
}

function addToReport(report: ServedReport, delta: OutcomeCounts, at: number): ServedReport {
  const steps = report.steps.map((s, n, all) =>
    n === all.length - 1 ? { ...s, ...addTotals(s, delta), until: at } : s,
  );
  return { ...report, ...addTotals(report, delta), steps };
}

function addTotals(totals: ServedTotals, delta: OutcomeCounts): ServedTotals {
  const releases = new Map(totals.releases.map((r) => [r.version, r]));
  let served = totals.served + delta.held + delta.rejected;
  let failures: FailureCounts = { ...totals.failures, held: totals.failures.held + delta.held };
  for (const r of delta.releases) {
    const added = releaseServed(r);
    if (added.served === 0) continue;
    served += added.served;
    failures = addFailures(failures, added.failures);
    const before = releases.get(r.version);
    releases.set(
      r.version,
      before === undefined
        ? added
        : {
            version: r.version,
            served: before.served + added.served,
            failed: before.failed + added.failed,
            failures: addFailures(before.failures, added.failures),
          },
    );
  }
  return {
    served,
    failed: sumFailures(failures),
    failures,
    rejected: totals.rejected + delta.rejected,
    abandoned: totals.abandoned + delta.abandoned,
    releases: [...releases.values()],
  };
}

function releaseServed(r: ReleaseOutcomeCounts): ReleaseServed {
  const failures = { serverError: r.serverError, reset: r.reset, timeout: r.timeout, held: 0 };
  const failed = sumFailures(failures);
  return { version: r.version, served: r.answered + failed, failed, failures };
}

function addFailures(a: FailureCounts, b: FailureCounts): FailureCounts {
  return {
    serverError: a.serverError + b.serverError,
    reset: a.reset + b.reset,
    timeout: a.timeout + b.timeout,
    held: a.held + b.held,
  };
}

function sumFailures(f: FailureCounts): number {
  return f.serverError + f.reset + f.timeout + f.held;
}

/** What `after` counted beyond `before`, counter by counter, never below zero. */
function difference(before: OutcomeCounts, after: OutcomeCounts): OutcomeCounts {
  return combine(before, after, (b, a) => Math.max(0, a - b));
}

/** The larger of each counter. */
function highest(a: OutcomeCounts, b: OutcomeCounts): OutcomeCounts {
  return combine(a, b, Math.max);
}

function combine(a: OutcomeCounts, b: OutcomeCounts, f: (a: number, b: number) => number): OutcomeCounts {
  const fromA = new Map(a.releases.map((r) => [r.version, r]));
  const fromB = new Map(b.releases.map((r) => [r.version, r]));
  const versions = [...new Set([...fromA.keys(), ...fromB.keys()])];
  return {
    releases: versions.map((version) => {
      const x = fromA.get(version);
      const y = fromB.get(version);
      return {
        version,
        answered: f(x?.answered ?? 0, y?.answered ?? 0),
        serverError: f(x?.serverError ?? 0, y?.serverError ?? 0),
        reset: f(x?.reset ?? 0, y?.reset ?? 0),
        timeout: f(x?.timeout ?? 0, y?.timeout ?? 0),
      };
    }),
    held: f(a.held, b.held),
    rejected: f(a.rejected, b.rejected),
    abandoned: f(a.abandoned, b.abandoned),
  };
}
