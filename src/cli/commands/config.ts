import type { Command } from 'commander';
import { lazyAction } from '../lazy-action.js';

/** ferry config check: validates a ferry.yaml and reports every problem with its path. */
export function register(program: Command): void {
  const config = program.command('config').description('configuration file tools');
  config
    .command('check')
    .description('validate ferry.yaml; exit 2 with every problem and its path when it is invalid')
    .option('--json', 'print the compiled configuration, or the problems, as JSON')
    .action(lazyAction(async () => (await import('../actions/config-check.js')).configCheck));
}
