import type { ConfigApplyResponse, ConfigChangeView, ConfigPlanView } from '../api/types.js';
import { renderDeploymentLine } from './render.js';

const SIGNS: Record<ConfigChangeView['action'], string> = {
  add: '+',
  remove: '-',
  keep: '=',
  replace: '-/+',
  update: '~',
};

/**
 * The plan of `ferry apply`, as `terraform plan` shows one:
 *   + jobs (production): deploys 1.0.0 (initial_release)
 *   -/+ hello (production): replaces the instances of 1.1.0 ...
 *       run.env.GREETING
 */
export function renderPlan(plan: ConfigPlanView): string {
  const where = plan.path ? ` (${plan.path})` : '';
  const lines: string[] = [];
  if (plan.changes.length === 0) lines.push(`No changes: what runs matches the configuration${where}.`);
  else {
    lines.push(`Ferry will change what runs to match the configuration${where}:`, '');
    for (const change of plan.changes) {
      lines.push(`  ${SIGNS[change.action].padEnd(3)} ${change.app} (${change.env}): ${change.effect}`);
      for (const field of change.fields) lines.push(`        ${field}`);
    }
    lines.push('', `Plan: ${summary(plan.changes)}.`);
  }
  if (plan.refused.length > 0) {
    lines.push('', 'Refused (nothing will be applied):');
    for (const refusal of plan.refused) lines.push(`  ${refusal.path}: ${refusal.message} (${refusal.code})`);
  }
  return lines.join('\n');
}

function summary(changes: readonly ConfigChangeView[]): string {
  const count = (...actions: Array<ConfigChangeView['action']>) =>
    changes.filter((c) => actions.includes(c.action)).length;
  const parts = [
    `${count('add')} to add`,
    `${count('replace', 'update')} to change`,
    `${count('remove')} to remove`,
  ];
  const kept = count('keep');
  if (kept > 0) parts.push(`${kept} kept running outside the file (would stop with --prune)`);
  return parts.join(', ');
}

export function renderApplied(response: ConfigApplyResponse): string {
  const lines = [`Applied: ${summary(response.plan.changes)}.`];
  for (const d of response.deployments) lines.push(`  ${renderDeploymentLine(d)}`);
  return lines.join('\n');
}
