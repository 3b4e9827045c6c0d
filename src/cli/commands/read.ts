import type { Command } from 'commander';
import { positiveInt } from '../args.js';
import { lazyAction } from '../lazy-action.js';

/** status, history, show, logs: read commands, each with --json. */
export function register(program: Command): void {
  program
    .command('status')
    .description('what runs: current release, instances and their health, the running or last deployment')
    .argument('[app]', 'only this app')
    .option('--env <env>', 'only this environment')
    .option('--json', 'print the API response as JSON')
    .action(lazyAction(async () => (await import('../actions/status.js')).status));

  program
    .command('history')
    .description("an app's deployments (with failure evidence) and its release ledger")
    .argument('<app>')
    .option('--env <env>', 'environment (default: the first one)')
    .option('--limit <n>', 'how many deployments', positiveInt('--limit'), 20)
    .option('--json', 'print the API response as JSON')
    .action(lazyAction(async () => (await import('../actions/history.js')).history));

  program
    .command('show')
    .description('one deployment: its state, failure evidence and full event log')
    .argument('<deployment>', 'the deployment id (from status or history)')
    .option('--json', 'print the API response as JSON')
    .action(lazyAction(async () => (await import('../actions/show.js')).show));

  program
    .command('logs')
    .description("the app's instance logs (stdout and stderr)")
    .argument('<app>')
    .option('--env <env>', 'environment (default: the first one)')
    .option('-n, --lines <n>', 'how many recent lines per instance', positiveInt('--lines'), 100)
    .option('-f, --follow', 'keep printing new lines')
    .option('--json', 'print JSON lines')
    .action(lazyAction(async () => (await import('../actions/logs.js')).logs));
}
