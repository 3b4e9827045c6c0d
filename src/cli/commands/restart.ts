import type { Command } from 'commander';
import type { DeploymentResponse, RestartBody } from '../../api/types.js';
import { clientOf, printJson } from '../context.js';
import { renderDeploymentLine } from '../render.js';
import { waitForDeployment } from '../wait.js';

/** ferry restart APP: the serving release's instances replaced batch by batch, health-gated. */
export function registerRestartCommand(program: Command): void {
  program
    .command('restart')
    .description(
      "replace the serving release's instances one at a time, each new one healthy before an old one drains and stops (zero failed requests)",
    )
    .argument('<app>')
    .option('--env <env>', 'environment (default: the first one)')
    .option('--wait', 'show progress and exit with the outcome (0 succeeded, 1 failed or aborted)')
    .option('--json', 'print the API response as JSON')
    .action(async (app: string, opts: { env?: string; wait?: boolean; json?: boolean }, command: Command) => {
      const client = clientOf(command);
      const body: RestartBody = opts.env ? { env: opts.env } : {};
      const response = await client.post<DeploymentResponse>(
        `/v1/apps/${encodeURIComponent(app)}/restart`,
        body,
      );
      if (opts.json && !opts.wait) return printJson(response);
      process.stdout.write(`${renderDeploymentLine(response.deployment)}\n`);
      if (opts.wait) process.exitCode = await waitForDeployment(client, response.deployment);
    });
}
