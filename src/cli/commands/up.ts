import { Option, type Command } from 'commander';
import { down } from '../../daemon/down.js';
import { up } from '../../daemon/up.js';
import type { GlobalOptions } from '../context.js';

/** ferry up / ferry down: the all-in-one daemon on this host. */
export function registerUpCommand(program: Command): void {
  program
    .command('up')
    .description('run Ferry on this host in the foreground: control plane, agent, router, API')
    .option('-c, --config <file>', 'the configuration file (default: ./ferry.yaml if present)')
    .addOption(
      new Option(
        '--adopt',
        'the store was lost: take over the instances that run (their release becomes current); stop and deploy nothing',
      ).conflicts('reset'),
    )
    .addOption(
      new Option(
        '--reset',
        'the store was lost: stop the instances and the router, clear the routes, start as a fresh install',
      ),
    )
    .action(async (opts: { config?: string; adopt?: boolean; reset?: boolean }, command: Command) => {
      const { home } = command.optsWithGlobals<GlobalOptions>();
      const recovery = opts.adopt ? 'adopt' : opts.reset ? 'reset' : undefined;
      await up({
        ...(opts.config ? { config: opts.config } : {}),
        ...(home ? { home } : {}),
        ...(recovery ? { recovery } : {}),
      });
      // The daemon runs until a signal stops it.
      await new Promise<never>(() => {});
    });

  program
    .command('down')
    .description('stop the daemon, the router and every app instance of this data directory')
    .action(async (_opts: unknown, command: Command) => {
      const { home } = command.optsWithGlobals<GlobalOptions>();
      const { stopped, notes } = await down(home);
      for (const note of notes) process.stderr.write(`ferry: ${note}\n`);
      process.stdout.write(`stopped: ${stopped.join(', ') || 'nothing was running'}\n`);
    });
}
