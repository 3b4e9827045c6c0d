import { readFileSync } from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline/promises';
import type { Command } from 'commander';
import type { ConfigApplyBody, ConfigApplyResponse, ConfigPlanView } from '../../api/types.js';
import { DEFAULT_CONFIG_FILE } from '../../config/config-file.js';
import { FerryError } from '../../errors/ferry-error.js';
import { clientOf } from '../context.js';
import type { GlobalOptions } from '../daemon-target.js';
import { printJson, printJsonLine } from '../json-output.js';
import { renderApplied, renderPlan } from '../render-plan.js';
import { waitForDeployment } from '../wait.js';

interface ApplyFlags {
  prune?: boolean;
  dryRun?: boolean;
  yes?: boolean;
  wait?: boolean;
  json?: boolean;
}

/**
 * ferry apply: prints the plan and applies it once confirmed (--yes, or "yes" at the prompt on a
 * terminal). The CLI sends the file's text and path: the daemon applies what the user sees,
 * wherever the daemon was started from.
 */
export async function apply(opts: ApplyFlags, command: Command): Promise<void> {
  if (opts.dryRun && opts.yes)
    throw new FerryError('FERRY_E_USAGE', '--dry-run and --yes: expected one of them, got both', {
      expected: '--dry-run or --yes',
      got: 'both',
    });
  const file = path.resolve(command.optsWithGlobals<GlobalOptions>().config ?? DEFAULT_CONFIG_FILE);
  const body: ConfigApplyBody = {
    config: readConfigText(file),
    path: file,
    ...(opts.prune ? { prune: true } : {}),
  };
  const client = await clientOf(command);
  const plan = await client.post<ConfigPlanView>('/v1/config/plan', body);
  if (opts.dryRun) {
    if (opts.json) printJson(plan);
    else process.stdout.write(`${renderPlan(plan)}\n`);
    process.exitCode = plan.refused.length === 0 ? 0 : refusedExitCode(plan);
    return;
  }
  if (!opts.json) process.stdout.write(`${renderPlan(plan)}\n`);
  if (plan.changes.length === 0 && plan.refused.length === 0) {
    const nothing: ConfigApplyResponse = { plan, deployments: [] };
    if (opts.json && opts.wait) printJsonLine({ kind: 'applied', ...nothing });
    else if (opts.json) printJson(nothing);
    return;
  }
  // A refused plan is sent anyway: the daemon answers with the error (and its code) for it.
  if (plan.refused.length === 0 && !opts.yes && !(await confirmed(opts.json === true))) {
    process.stdout.write('Apply cancelled: nothing changed.\n');
    process.exitCode = 1;
    return;
  }
  const applied = await client.post<ConfigApplyResponse>('/v1/config/apply', { ...body, expect: plan.id });
  if (opts.json && opts.wait) printJsonLine({ kind: 'applied', ...applied });
  else if (opts.json) printJson(applied);
  else process.stdout.write(`\n${renderApplied(applied)}\n`);
  if (!opts.wait) return;
  let code = 0;
  for (const deployment of applied.deployments)
    code = Math.max(
      code,
      await waitForDeployment(client, deployment, process.stdout, { json: opts.json === true }),
    );
  process.exitCode = code;
}

function readConfigText(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (error) {
    throw new FerryError(
      'FERRY_E_CONFIG_NOT_FOUND',
      `cannot read the configuration file ${file}`,
      { where: file },
      { cause: error },
    );
  }
}

/** The exit code the refusal would end an apply with: 2 for the file, 1 for a running deployment. */
function refusedExitCode(plan: ConfigPlanView): number {
  return plan.refused.every((r) => r.code === 'FERRY_E_DEPLOYMENT_IN_PROGRESS') ? 1 : 2;
}

/** "yes" typed at a terminal; without one, --yes (or --dry-run) is required. */
async function confirmed(json: boolean): Promise<boolean> {
  if (json || !process.stdin.isTTY)
    throw new FerryError(
      'FERRY_E_USAGE',
      'ferry apply asks before it changes anything, and its input is not a terminal: pass --yes to apply the plan, or --dry-run to only show it',
      { expected: '--yes or --dry-run', got: 'neither' },
    );
  const prompt = createInterface({ input: process.stdin, output: process.stdout });
  try {
    const answer = await prompt.question('\nApply this plan? Only "yes" applies it: ');
    return answer.trim().toLowerCase() === 'yes';
  } finally {
    prompt.close();
  }
}
