import type { Command } from 'commander';
import { defaultFerryHome } from '../config/load.js';
import { ApiClient } from './client.js';

export interface GlobalOptions {
  home?: string;
  url?: string;
  token?: string;
}

/** The data directory and an API client from the global options. */
export function homeOf(command: Command): string {
  const opts = command.optsWithGlobals<GlobalOptions>();
  return opts.home ?? defaultFerryHome();
}

export function clientOf(command: Command): ApiClient {
  const opts = command.optsWithGlobals<GlobalOptions>();
  return new ApiClient({
    home: homeOf(command),
    ...(opts.url ? { url: opts.url } : {}),
    ...(opts.token ? { token: opts.token } : {}),
  });
}

export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

export function envQuery(env: string | undefined): string {
  return env ? `env=${encodeURIComponent(env)}` : '';
}
