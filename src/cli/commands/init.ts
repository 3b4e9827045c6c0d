import type { Command } from 'commander';
import { appNameArg, healthPathArg, portArg } from '../init-template.js';
import { lazyAction } from '../lazy-action.js';

/** ferry init: a commented ferry.yaml for the app in the current directory (-c names another file). */
export function register(program: Command): void {
  program
    .command('init')
    .description(
      'write a commented ferry.yaml for the app in this directory (asks nothing; -c FILE writes FILE)',
    )
    .option('--name <name>', "the app's name (default: this directory's)", appNameArg)
    .option('--command <command>', 'the command that starts it, with its arguments (default: guessed)')
    .option('--port <port>', 'the port users reach it on, through the router (default: 8080)', portArg)
    .option(
      '--health <path>',
      'an HTTP path that answers 200 when it is ready (default: a TCP check)',
      healthPathArg,
    )
    .option('--force', 'overwrite the file if it exists')
    .action(lazyAction(async () => (await import('../actions/init.js')).init));
}
