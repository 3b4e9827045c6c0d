import { renderFleetRestart } from './render-fleet-restart.js';
import { renderRollout } from './render-rollout.js';
import type {
  AppStatus,
  CanaryLiveView,
  Deployment,
  DeploymentEvent,
  HistoryResponse,
  RouterStatusView,
  StatusResponse,
} from '../api/types.js';
import { FINAL_DEPLOYMENT_STATUSES } from '../api/types.js';
import { formatUptime } from './format.js';
import { renderInstanceLine } from './render-instances.js';
import { renderStatusLocks } from './render-locks.js';
import { renderServedSummary } from './render-report.js';
import { describeTrigger } from './render-trigger.js';
import { renderWaiting } from './render-waiting.js';

/** Human output of the read commands; `--json` prints the API's response instead. */

export function renderStatus(status: StatusResponse, now = Date.now()): string {
  const router = renderRouter(status.router);
  // A daemon from before rollouts across hosts does not report them.
  const rollouts = [
    ...(status.rollouts ?? []).map((r) => renderRollout(r, now)),
    ...(status.restarts ?? []).map((r) => renderFleetRestart(r)),
  ];
  if (status.apps.length === 0 && rollouts.length === 0) return `${router}\nno apps configured`;
  // A daemon from before the release intake does not report what waits.
  const waiting = renderWaiting(status.waiting ?? [], now);
  return [
    router,
    ...status.apps.map((app) => renderApp(app, now)),
    ...rollouts,
    ...(waiting.length > 0 ? [waiting.join('\n')] : []),
  ].join('\n\n');
}

function renderRouter(router: RouterStatusView | undefined): string {
  // A daemon from before the router's supervision does not report it.
  if (router === undefined) return 'router: (not reported by this daemon)';
  const workers = router.workers
    .map(
      (w) =>
        `${w.pid ?? '-'}${w.state === 'up' ? '' : ` ${w.state}`}${w.restarts > 0 ? ` (${w.restarts} restarts)` : ''}`,
    )
    .join(', ');
  const line =
    router.state === 'running'
      ? `router: pid ${router.pid ?? '-'}, up ${formatUptime(router.uptimeMs)}, workers ${workers || 'none'}${spareOf(router)}; restarts ${router.restarts}`
      : `router: ${router.state.toUpperCase()} (last pid ${router.pid ?? '-'}; restarts ${router.restarts})`;
  return router.error === null ? line : `${line}\n  error: ${router.error}`;
}

function spareOf(router: RouterStatusView): string {
  const spare = router.spare;
  if (spare === undefined || spare === null) return '';
  return spare.state === 'up' ? `, spare ${spare.pid ?? '-'}` : `, spare ${spare.state}`;
}

function renderApp(app: AppStatus, now: number): string {
  const lines = [
    `${app.app} (${app.env})  current: ${app.current ?? 'none'}  listening on http://${app.listen}${app.inConfig === false ? '  NOT IN CONFIG: keeps running; ferry apply --prune stops it' : ''}`,
    ...renderStatusLocks(app, now),
  ];
  for (const i of app.instances) lines.push(renderInstanceLine(i));
  if (app.instances.length === 0) lines.push('  no instances running');
  if (app.deployment)
    lines.push(
      `  deployment ${renderDeploymentLine(app.deployment)}`,
      ...renderServedSummary(app.deployment),
    );
  if (app.canary) lines.push(...renderCanary(app.canary, app.deployment));
  if (app.deployment?.failure) lines.push(...renderStatusFailure(app.deployment));
  return lines.join('\n');
}

/**
 * A failure while its deployment runs (a revert under way) with its evidence; a past one in one
 * line: the instances above show what is true now, and `ferry show` keeps the evidence.
 */
function renderStatusFailure(d: Deployment): string[] {
  if (!FINAL_DEPLOYMENT_STATUSES.includes(d.status)) return renderFailure(d);
  const [first = '', ...more] = (d.failure?.message ?? '').split('\n');
  const text = `${d.failure?.code ?? ''}: ${first}`;
  const line = text.length > 160 || more.length > 0 ? `${text.slice(0, 160)}…` : text;
  return [`    last failure: ${line} (details: ferry show ${d.id})`];
}

/**
 * The running canary step's window so far, per release:
 *   canary step 1 so far (since 10:41:07.112):
 *     1.1.0   canary  50%  requests 1234/20  errors 3 (0.2%, max 5.0%)  healthy 2/2
 */
function renderCanary(canary: CanaryLiveView, deployment: Deployment | null): string[] {
  const analysis = deployment?.strategy.kind === 'canary' ? deployment.strategy.analysis : null;
  const since = canary.since === null ? '' : ` (since ${clockTime(canary.since)})`;
  const lines = [`  canary step ${canary.step + 1} so far${since}:`];
  for (const r of canary.releases) {
    const canaryRow = r.role === 'canary' && analysis !== null;
    const requests = `requests ${r.requests ?? '-'}${canaryRow ? `/${analysis.minRequests}` : ''}`;
    const rate =
      r.requests !== null && r.errors !== null && r.requests > 0
        ? `${((100 * r.errors) / r.requests).toFixed(1)}%`
        : null;
    const limit = canaryRow ? `max ${(analysis.maxErrorRate * 100).toFixed(1)}%` : null;
    const detail = [rate, limit].filter((x) => x !== null).join(', ');
    const errors = `errors ${r.errors ?? '-'}${detail ? ` (${detail})` : ''}`;
    lines.push(
      `    ${r.version.padEnd(18)} ${r.role.padEnd(6)} ${`${r.weight}%`.padStart(4)}  ${requests.padEnd(18)} ${errors.padEnd(28)} healthy ${r.healthy}/${r.instances}`,
    );
  }
  if (canary.error !== null) lines.push(`    ${canary.error}`);
  return lines;
}

function clockTime(at: number): string {
  return new Date(at).toISOString().slice(11, 23);
}

export function renderDeploymentLine(d: Deployment): string {
  const when = new Date(d.createdAt).toISOString().replace('T', ' ').slice(0, 19);
  const progress = d.phase === 'done' ? '' : `: ${d.progress}`;
  // A restart (or the serving release deployed again) replaces instances in batches, whatever the strategy.
  const how = d.replace ? `${d.replace.batchSize} instance(s) at a time` : d.strategy.kind;
  return `${d.id} ${d.kind} ${d.from ?? 'nothing'} -> ${d.to} (${how}) ${d.status}${progress}  ${when}`;
}

export function renderFailure(d: Deployment): string[] {
  const f = d.failure;
  if (!f) return [];
  const lines = [`    failure: ${f.code}: ${f.message}`];
  if (f.evidence?.health) lines.push(`    health check: ${f.evidence.health}`);
  if (f.evidence?.traffic)
    lines.push(`    traffic: ${f.evidence.traffic.errors} errors in ${f.evidence.traffic.requests} requests`);
  if (f.evidence?.logTail?.length)
    lines.push(
      `    last log lines of ${f.evidence.instanceId ?? 'the instance'}:`,
      ...f.evidence.logTail.map((l) => `      | ${l}`),
    );
  return lines;
}

export function renderHistory(history: HistoryResponse): string {
  const lines = ['deployments (newest first):'];
  for (const d of history.deployments) {
    lines.push(`  ${renderDeploymentLine(d)}  by ${describeTrigger(d.trigger)}`);
    lines.push(...renderServedSummary(d));
    lines.push(...renderFailure(d));
  }
  if (history.deployments.length === 0) lines.push('  none');
  lines.push('', 'releases:');
  for (const r of history.releases)
    lines.push(`  ${r.version.padEnd(20)} ${r.status.padEnd(11)} ${r.reason ?? ''}`);
  return lines.join('\n');
}

export function renderEvent(event: DeploymentEvent): string {
  return `${clockTime(event.at)} ${event.message}`;
}
