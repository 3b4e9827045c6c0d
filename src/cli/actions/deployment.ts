import type { Command } from 'commander';
import type {
  CommandResponse,
  RolloutResponse,
  CanaryWeightBody,
  CommandBody,
  DeployBody,
  DeployResponse,
  DeploymentResponse,
  FleetRestartView,
  RestartBody,
  RestartResponse,
  StatusResponse,
  RollbackBody,
  RollbackResponse,
} from '../../api/types.js';
import type { StrategyArg } from '../args.js';
import type { ApiClient } from '../client.js';
import { clientOf } from '../context.js';
import { printJson, printJsonLine } from '../json-output.js';
import { renderDeploymentLine } from '../render.js';
import { renderQueuedDeploy } from '../render-locks.js';
import { waitForDeployment } from '../wait.js';
import { waitForRollout } from '../wait-rollout.js';
import { renderRolloutLine } from '../render-rollout.js';
import { renderFleetRestart, renderFleetRestartLine } from '../render-fleet-restart.js';

export interface DeploymentOptions {
  env?: string;
  strategy?: StrategyArg;
  force?: boolean;
  /** pause, resume, promote on enrolled hosts: only that host's canary. */
  host?: string;
  queue?: boolean;
  dryRun?: boolean;
  wait?: boolean;
  json?: boolean;
}

/** ferry deploy APP VERSION */
export async function deploy(
  app: string,
  version: string,
  opts: DeploymentOptions,
  command: Command,
): Promise<void> {
  const body: DeployBody = {
    app,
    version,
    ...(opts.env ? { env: opts.env } : {}),
    ...(opts.strategy ? { strategy: opts.strategy } : {}),
    ...(opts.force ? { force: true } : {}),
    ...(opts.queue ? { queue: true } : {}),
    ...(opts.dryRun ? { dryRun: true } : {}),
  };
  const client = await clientOf(command);
  const response = await client.post<DeployResponse>('/v1/deployments', body);
  if ('deployment' in response) return started(client, opts, response);
  if ('rollout' in response) return rolling(client, opts, response);
  if ('plan' in response) {
    if (opts.json) return printJson(response);
    process.stdout.write(`${response.plan.text}\n(dry run: nothing changed)\n`);
    return;
  }
  // Queued behind a lock: nothing runs yet, so --wait has nothing to follow.
  if (opts.json) return printJson(response);
  process.stdout.write(`${renderQueuedDeploy(response)}\n`);
}

/** ferry rollback APP [--to VERSION] */
export async function rollback(
  app: string,
  opts: DeploymentOptions & { to?: string },
  command: Command,
): Promise<void> {
  const body: RollbackBody = {
    app,
    ...(opts.env ? { env: opts.env } : {}),
    ...(opts.to ? { to: opts.to } : {}),
  };
  const client = await clientOf(command);
  const response = await client.post<RollbackResponse>('/v1/rollbacks', body);
  if ('rollout' in response) return rolling(client, opts, response);
  await started(client, opts, response);
}

/** ferry canary APP --weight P */
export async function canary(
  app: string,
  opts: DeploymentOptions & { weight: number },
  command: Command,
): Promise<void> {
  const body: CanaryWeightBody = { weight: opts.weight, ...(opts.env ? { env: opts.env } : {}) };
  const client = await clientOf(command);
  await started(
    client,
    opts,
    await client.post<DeploymentResponse>(`/v1/apps/${encodeURIComponent(app)}/canary`, body),
  );
}

/** ferry pause|resume|promote|abort APP: steers the running deployment. */
export function steer(name: 'pause' | 'resume' | 'promote' | 'abort') {
  return async (app: string, opts: DeploymentOptions, command: Command): Promise<void> => {
    const body: CommandBody = {
      ...(opts.env ? { env: opts.env } : {}),
      ...(opts.force ? { force: true } : {}),
      ...(opts.host !== undefined ? { host: opts.host } : {}),
    };
    const client = await clientOf(command);
    const response = await client.post<CommandResponse>(`/v1/apps/${encodeURIComponent(app)}/${name}`, body);
    if ('rollout' in response) return rolling(client, opts, response);
    await started(client, opts, response);
  };
}

/** An environment on enrolled hosts: its rollout (the line, or the answer with --json), then --wait follows it. */
async function rolling(client: ApiClient, opts: DeploymentOptions, response: RolloutResponse): Promise<void> {
  if (opts.json && !opts.wait) return printJson(response);
  if (!opts.json) process.stdout.write(`${renderRolloutLine(response.rollout)}\n`);
  if (opts.wait)
    process.exitCode = await waitForRollout(
      client,
      response.rollout.app,
      response.rollout.env,
      process.stdout,
      {
        json: opts.json === true,
      },
    );
}

/** ferry restart APP: the serving release's instances replaced batch by batch, health-gated. */
export async function restart(app: string, opts: DeploymentOptions, command: Command): Promise<void> {
  const body: RestartBody = opts.env ? { env: opts.env } : {};
  const client = await clientOf(command);
  const response = await client.post<RestartResponse>(`/v1/apps/${encodeURIComponent(app)}/restart`, body);
  if ('deployment' in response) return started(client, opts, response);
  if (opts.json && !opts.wait) return printJson(response);
  if (!opts.json) process.stdout.write(`${renderFleetRestartLine(response.restart)}\n`);
  if (opts.wait) process.exitCode = await waitForFleetRestart(client, response.restart, opts.json === true);
}

/** Follows a restart across hosts through `ferry status` until it ends: 0 when it succeeded. */
async function waitForFleetRestart(
  client: ApiClient,
  restart: FleetRestartView,
  json: boolean,
): Promise<number> {
  const query = `?app=${encodeURIComponent(restart.app)}&env=${encodeURIComponent(restart.env)}`;
  let last = renderFleetRestartLine(restart);
  for (;;) {
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const status = await client.get<StatusResponse>(`/v1/status${query}`);
    const now = (status.restarts ?? []).find((r) => r.id === restart.id);
    if (now === undefined) return 1;
    const line = renderFleetRestartLine(now);
    if (line !== last && !json) process.stdout.write(`${line}\n`);
    last = line;
    if (now.state === 'running') continue;
    if (json) printJson({ restart: now });
    else if (now.failure !== null) process.stdout.write(`${renderFleetRestart(now)}\n`);
    return now.state === 'succeeded' ? 0 : 1;
  }
}

/**
 * What the commands print once the daemon took them: the deployment (its line, or the response
 * with --json), then with --wait its progress and outcome (with --json: NDJSON, see docs/cli.md).
 */
async function started(
  client: ApiClient,
  opts: DeploymentOptions,
  response: DeploymentResponse,
): Promise<void> {
  if (opts.json && !opts.wait) return printJson(response);
  if (opts.json) printJsonLine({ kind: 'started', deployment: response.deployment });
  else process.stdout.write(`${renderDeploymentLine(response.deployment)}\n`);
  if (opts.wait)
    process.exitCode = await waitForDeployment(client, response.deployment, process.stdout, {
      json: opts.json === true,
    });
}
