import type {
  CatalogRelease,
  IntakeOutcomeView,
  ReleaseAddResponse,
  ReleasesResponse,
} from '../api/types.js';
import { formatDateTime } from './format.js';
import { describeTrigger } from './render-trigger.js';

/**
 * `ferry releases APP`: one row per release, newest first: when it was published (else `-`) and
 * recorded, what brought it, its artifact (redacted by the daemon; `artifact.url` when none), and
 * its ledger status in each environment, `*` on the one serving there.
 */
export function renderReleases(response: ReleasesResponse): string {
  if (response.releases.length === 0)
    return 'no release recorded yet; record one with: ferry release add APP VERSION';
  const envs = response.releases[0]!.environments.map((e) => e.env);
  const header = ['VERSION', 'PUBLISHED', 'RECORDED', 'TRIGGER', 'ARTIFACT', ...envs];
  const rows = response.releases.map((r) => [
    r.version,
    r.publishedAt === null ? '-' : formatDateTime(r.publishedAt),
    formatDateTime(r.recordedAt),
    describeTrigger(r.trigger),
    r.artifact?.url ?? '(artifact.url)',
    ...envs.map((env) => envCell(r, env)),
  ]);
  return [...table([header, ...rows]), '', '* serves there now; - never deployed there'].join('\n');
}

/** `ferry release add`: the release recorded, and what the intake did in each environment. */
export function renderReleaseAdded(response: ReleaseAddResponse): string {
  const { release, outcomes } = response;
  const lines = [`recorded ${release.app} ${release.version} (${describeTrigger(release.trigger)})`];
  if (outcomes.length === 0) lines.push('  deployed nowhere (--no-deploy, or no environment takes it)');
  for (const outcome of outcomes) lines.push(`  ${outcomeLine(outcome)}`);
  return lines.join('\n');
}

function outcomeLine(o: IntakeOutcomeView): string {
  const deployment = o.deployment === null ? '' : ` ${o.deployment} (ferry show ${o.deployment})`;
  const reason = o.reason === null ? '' : `: ${o.reason}`;
  return `${o.env}: ${o.action}${deployment}${reason}`;
}

function envCell(release: CatalogRelease, env: string): string {
  const status = release.environments.find((e) => e.env === env);
  if (!status || status.status === null) return '-';
  return `${status.status}${status.current ? '*' : ''}`;
}

/** Columns padded to their widest cell, two spaces apart. */
function table(rows: readonly (readonly string[])[]): string[] {
  const widths = rows[0]!.map((_, n) => Math.max(...rows.map((row) => row[n]!.length)));
  return rows.map((row) =>
    row
      .map((cell, n) => (n === row.length - 1 ? cell : cell.padEnd(widths[n]!)))
      .join('  ')
      .trimEnd(),
  );
}
