import { Option, type Command } from 'commander';
import { lazyAction } from '../lazy-action.js';

/** ferry up / ferry down: the all-in-one daemon on this host. */
export function register(program: Command): void {
  program
    .command('up')
    .description('run Ferry on this host in the foreground: control plane, agent, router, API')
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
    .action(lazyAction(async () => (await import('../actions/up.js')).up));

  program
    .command('server')
    .description(
      "run the control plane in the foreground with the agents' HTTPS address open (server.listen, default 0.0.0.0:7443); environments with hosts: run on enrolled agents",
    )
    .option(
      '--store <url>',
      "the control plane's key-value store: etcd://host:port[,host:port...][/prefix] (default: server.store, else control.db in the data directory)",
    )
    .action(lazyAction(async () => (await import('../actions/up.js')).server));

  program
    .command('down')
    .description('stop the daemon, the router and every app instance of this data directory')
    .action(lazyAction(async () => (await import('../actions/down.js')).down));
}
