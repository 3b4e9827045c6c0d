import type { Command } from 'commander';
import type { GlobalOptions } from '../daemon-target.js';

/** ferry up: runs the daemon in this process, until a signal stops it. */
export async function up(
  opts: { adopt?: boolean; reset?: boolean; server?: boolean; store?: string },
  command: Command,
): Promise<never> {
  const { home, config } = command.optsWithGlobals<GlobalOptions>();
  const recovery = opts.adopt ? 'adopt' : opts.reset ? 'reset' : undefined;
  // The daemon's code, loaded by this command only (see the CLI's import fence in eslint.config.js).
  const daemon = await import('../../daemon/up.js');
  await daemon.up({
    ...(config ? { config } : {}),
    ...(home ? { home } : {}),
    ...(recovery ? { recovery } : {}),
    ...(opts.server ? { server: true } : {}),
    ...(opts.store !== undefined ? { store: opts.store } : {}),
  });
  return new Promise<never>(() => {});
}

/** ferry server: the daemon with the agents' address open (ferry.yaml's `server`, else 0.0.0.0:7443). */
export function server(
  opts: { adopt?: boolean; reset?: boolean; store?: string },
  command: Command,
): Promise<never> {
  return up({ ...opts, server: true }, command);
}
