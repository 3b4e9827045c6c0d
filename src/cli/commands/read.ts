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
    .option('--watch', 'show it again whenever something changes (from the event stream); Ctrl-C ends')
    .option('--json', 'print the API response as JSON (with --watch: one line per change)')
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
    .option(
      '--follow',
      'if it runs: its events so far, then each as it comes until it ends (exit code as deploy --wait)',
    )
    .option('--json', 'print the API response as JSON (with --follow: NDJSON as deploy --wait --json)')
    .action(lazyAction(async () => (await import('../actions/show.js')).show));

  program
    .command('logs')
    .description("the app's instance logs (stdout and stderr)")
    .argument('<app>')
    .option('--env <env>', 'environment (default: the first one)')
    .option('-n, --lines <n>', 'how many recent lines per instance', positiveInt('--lines'), 100)
    .option(
      '-f, --follow',
      'keep printing new lines, of instances started later too, each with its time, instance and version',
    )
    .option('--json', 'print JSON lines')
    .action(lazyAction(async () => (await import('../actions/logs.js')).logs));
}
