import type { Command } from 'commander';
import { down } from '../../daemon/down.js';
import { up } from '../../daemon/up.js';
import type { GlobalOptions } from '../context.js';

/** ferry up / ferry down: the all-in-one daemon on this host. */
export function registerUpCommand(program: Command): void {
  program
    .command('up')
    .description('run Ferry on this host in the foreground: control plane, agent, router, API')
    .option('-c, --config <file>', 'the configuration file (default: ./ferry.yaml if present)')
    .action(async (opts: { config?: string }, command: Command) => {
      const { home } = command.optsWithGlobals<GlobalOptions>();
      await up({ ...(opts.config ? { config: opts.config } : {}), ...(home ? { home } : {}) });
      // The daemon runs until a signal stops it.
      await new Promise<never>(() => {});
    });

  program
    .command('down')
    .description('stop the daemon, the router and every app instance of this data directory')
    .action(async (_opts: unknown, command: Command) => {
      const { home } = command.optsWithGlobals<GlobalOptions>();
      const stopped = await down(home);
      process.stdout.write(`stopped: ${stopped.join(', ') || 'nothing was running'}\n`);
    });
}
