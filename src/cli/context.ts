import type { Command } from 'commander';
import { ApiClient } from './client.js';
import { resolveDaemonTarget } from './daemon-target.js';

/** An API client for the daemon the command's options and configuration name. */
export async function clientOf(command: Command): Promise<ApiClient> {
  return new ApiClient(await resolveDaemonTarget(command));
}

export function envQuery(env: string | undefined): string {
  return env ? `env=${encodeURIComponent(env)}` : '';
}
