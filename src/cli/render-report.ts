import type { Deployment, ServedReport } from '../api/types.js';

/**
 * Human output of a deployment's served-request report: one line for history and status,
 * per release and per step for `ferry show`.
 */

type Counts = Pick<ServedReport, 'served' | 'failed' | 'failures'>;

function count(n: number): string {
  return n.toLocaleString('en-US');
}

/** "served 41,220 requests, 0 failed" and, when some failed, how. */
function servedPhrase(c: Counts): string {
  const base = `served ${count(c.served)} request${c.served === 1 ? '' : 's'}, ${count(c.failed)} failed`;
  if (c.failed === 0) return base;
  const { serverError, reset, timeout, held } = c.failures;
  const kinds = [
    serverError > 0 ? `${count(serverError)} 5xx from the app` : null,
    reset > 0 ? `${count(reset)} upstream error${reset === 1 ? '' : 's'} (502)` : null,
    timeout > 0 ? `${count(timeout)} upstream timeout${timeout === 1 ? '' : 's'} (504)` : null,
    held > 0 ? `${count(held)} held then 503 (no healthy instance)` : null,
  ].filter((k) => k !== null);
  return `${base}: ${kinds.join(', ')}`;
}

/** What else the report says: requests not forwarded, clients gone, counts missing, still running. */
function notes(report: ServedReport): string[] {
  const notes: string[] = [];
  if (report.rejected > 0) notes.push(`${count(report.rejected)} refused as invalid (400)`);
  if (report.abandoned > 0) notes.push(`${count(report.abandoned)} left by their client before the answer`);
  if (report.routerRestarts > 0)
    notes.push(
      `the router restarted ${report.routerRestarts} time(s): requests since the reading before missing`,
    );
  if (!report.final) notes.push('so far');
  return notes;
}

/** The one line of history and status, e.g. "served 41,220 requests, 0 failed"; [] without a report. */
export function renderServedSummary(d: Deployment): string[] {
  const report = d.served;
  if (report === undefined || report === null) return [];
  const extra = notes(report);
  const lines = [`    ${servedPhrase(report)}${extra.length > 0 ? ` (${extra.join('; ')})` : ''}`];
  if (report.error !== null) lines.push(`    report: ${report.error}`);
  return lines;
}

/** `ferry show`: the whole report, per release and per step. */
export function renderServedReport(d: Deployment): string[] {
  const report = d.served;
  if (report === undefined) return [];
  if (report === null) return ['', 'served: no report (a deployment from before Ferry kept them)'];
  const lines = ['', ...renderServedSummary(d).map((line) => line.trimStart())];
  if (report.releases.length > 0) {
    lines.push('  per release:');
    for (const r of report.releases) lines.push(`    ${r.version.padEnd(20)} ${servedPhrase(r)}`);
  }
  lines.push('  per step:');
  for (const s of report.steps) {
    const span = `${clockTime(s.since)}-${clockTime(s.until)}`;
    const label = s.phase === 'shifting' ? `canary step ${(s.step ?? 0) + 1} at ${s.weight}%` : s.phase;
    const share = s.phase === 'shifting' ? '' : ` (${s.weight}% on ${d.to})`;
    const byRelease = s.releases.map((r) => `${r.version} ${count(r.served)}`).join(', ');
    lines.push(
      `    ${`${label}${share}`.padEnd(34)} ${span}  ${servedPhrase(s)}${byRelease ? `  [${byRelease}]` : ''}`,
    );
  }
  return lines;
}

function clockTime(at: number): string {
  return new Date(at).toISOString().slice(11, 23);
}
