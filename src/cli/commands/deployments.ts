import type { Command } from 'commander';
import type { CanaryWeightBody, CommandBody, DeployBody, DeploymentResponse } from '../../api/types.js';
import { strategy, trafficPercent, type StrategyArg } from '../args.js';
import { clientOf, printJson } from '../context.js';
import { renderDeploymentLine } from '../render.js';
import { waitForDeployment } from '../wait.js';

interface DeployOptions {
  env?: string;
  strategy?: StrategyArg;
  force?: boolean;
  wait?: boolean;
  json?: boolean;
}

/** deploy, rollback, pause, resume, promote, abort, canary. */
export function registerDeploymentCommands(program: Command): void {
  program
    .command('deploy')
    .description('deploy a release of an app; refused while another deployment of it runs')
    .argument('<app>')
    .argument('<version>')
    .option('--env <env>', 'environment (default: the first one)')
    .option('--strategy <kind>', "blue-green, canary or all-at-once (default: the app's)", strategy)
    .option(
      '--force',
      'deploy it even if the ledger marks it bad, or if it serves already (its instances replaced)',
    )
    .option('--wait', 'show progress and exit with the outcome (0 succeeded, 1 failed or rolled back)')
    .option('--json', 'print the API response as JSON')
    .action(async (app: string, version: string, opts: DeployOptions, command: Command) => {
      const body: DeployBody = {
        app,
        version,
        ...(opts.env ? { env: opts.env } : {}),
        ...(opts.strategy ? { strategy: opts.strategy } : {}),
        ...(opts.force ? { force: true } : {}),
      };
      await started(command, opts, await clientOf(command).post<DeploymentResponse>('/v1/deployments', body));
    });

  program
    .command('rollback')
    .description('go back to the last good release (or --to a named one) at once, from disk')
    .argument('<app>')
    .option('--env <env>', 'environment (default: the first one)')
    .option('--to <version>', 'roll back to this release (even one marked bad)')
    .option('--wait', 'show progress and exit with the outcome')
    .option('--json', 'print the API response as JSON')
    .action(async (app: string, opts: DeployOptions & { to?: string }, command: Command) => {
      const body = { app, ...(opts.env ? { env: opts.env } : {}), ...(opts.to ? { to: opts.to } : {}) };
      await started(command, opts, await clientOf(command).post<DeploymentResponse>('/v1/rollbacks', body));
    });

  program
    .command('canary')
    .description(
      'set the share of the running canary step (its pause and analysis window start over at it; later steps keep their own)',
    )
    .argument('<app>')
    .requiredOption(
      '--weight <percent>',
      'percent of the requests for the new release, like 30% (above 0, at most 100)',
      trafficPercent('--weight', 'to take all traffic off the canary, abort it: ferry abort APP'),
    )
    .option('--env <env>', 'environment (default: the first one)')
    .option('--wait', 'show progress and exit with the outcome')
    .option('--json', 'print the API response as JSON')
    .action(async (app: string, opts: DeployOptions & { weight: number }, command: Command) => {
      const body: CanaryWeightBody = { weight: opts.weight, ...(opts.env ? { env: opts.env } : {}) };
      await started(
        command,
        opts,
        await clientOf(command).post<DeploymentResponse>(`/v1/apps/${encodeURIComponent(app)}/canary`, body),
      );
    });

  const commands = {
    pause: 'pause a canary at its current step',
    resume: 'resume a paused canary (after too few requests to judge a step: accept that step as passed)',
    promote: 'skip the remaining canary steps: 100% to the new release',
    abort: 'stop the deployment and go back to the previous release (--force: end it at once in any phase)',
  } as const;
  for (const [name, description] of Object.entries(commands)) {
    const sub = program
      .command(name)
      .description(description)
      .argument('<app>')
      .option('--env <env>', 'environment (default: the first one)');
    if (name === 'abort')
      sub.option(
        '--force',
        'end it at once, whatever it waits on: before 100% traffic goes back to the previous release (aborted); after, it stays on the new one (succeeded)',
      );
    sub
      .option('--wait', 'show progress and exit with the outcome')
      .option('--json', 'print the API response as JSON')
      .action(async (app: string, opts: DeployOptions, command: Command) => {
        const body: CommandBody = {
          ...(opts.env ? { env: opts.env } : {}),
          ...(opts.force ? { force: true } : {}),
        };
        await started(
          command,
          opts,
          await clientOf(command).post<DeploymentResponse>(
            `/v1/apps/${encodeURIComponent(app)}/${name}`,
            body,
          ),
        );
      });
  }
}

async function started(command: Command, opts: DeployOptions, response: DeploymentResponse): Promise<void> {
  if (opts.json && !opts.wait) return printJson(response);
  process.stdout.write(`${renderDeploymentLine(response.deployment)}\n`);
  if (opts.wait) process.exitCode = await waitForDeployment(clientOf(command), response.deployment);
}
