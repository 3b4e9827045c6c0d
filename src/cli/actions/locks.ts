import type { Command } from 'commander';
import type { LockBody, LockResponse, LocksResponse, UnlockBody, UnlockResponse } from '../../api/types.js';
import { FerryError } from '../../errors/ferry-error.js';
import { clientOf, envQuery } from '../context.js';
import { printJson } from '../json-output.js';
import { renderLocks, renderLockTaken, renderUnlocked } from '../render-locks.js';

export interface LockOptions {
  reason?: string;
  ttl: string;
  json?: boolean;
}

/** ferry lock ENV [APP] --reason R [--ttl D] */
export async function lock(
  env: string,
  app: string | undefined,
  opts: LockOptions,
  command: Command,
): Promise<void> {
  const reason = opts.reason?.trim() ?? '';
  if (reason === '')
    throw new FerryError(
      'FERRY_E_USAGE',
      `--reason: a reason is required (it is shown to everyone the lock refuses), like: ferry lock ${env}${app ? ` ${app}` : ''} --reason "release freeze"`,
      { where: '--reason', expected: 'a reason', got: 'nothing' },
    );
  const body: LockBody = { env, ...(app ? { app } : {}), reason, ttl: opts.ttl };
  const client = await clientOf(command);
  const response = await client.post<LockResponse>('/v1/locks', body);
  if (opts.json) printJson(response);
  else process.stdout.write(`${renderLockTaken(response, Date.now())}\n`);
}

/** ferry unlock ENV [APP] */
export async function unlock(
  env: string,
  app: string | undefined,
  opts: { json?: boolean },
  command: Command,
): Promise<void> {
  const body: UnlockBody = { env, ...(app ? { app } : {}) };
  const client = await clientOf(command);
  const response = await client.post<UnlockResponse>('/v1/locks/unlock', body);
  if (opts.json) printJson(response);
  else process.stdout.write(`${renderUnlocked(response)}\n`);
}

/** ferry locks [--env E] */
export async function list(opts: { env?: string; json?: boolean }, command: Command): Promise<void> {
  const query = envQuery(opts.env);
  const client = await clientOf(command);
  const response = await client.get<LocksResponse>(`/v1/locks${query ? `?${query}` : ''}`);
  if (opts.json) printJson(response);
  else process.stdout.write(`${renderLocks(response, Date.now())}\n`);
}
