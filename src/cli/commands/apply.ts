import type { Command } from 'commander';
import { lazyAction } from '../lazy-action.js';

/**
 * ferry apply: compares ferry.yaml (-c, the option every command has) with what runs, prints the
 * plan, and applies it once confirmed.
 */
export function register(program: Command): void {
  program
    .command('apply')
    .description(
      "make what runs match ferry.yaml: shows the plan (apps added, changed, removed), then applies it; changed apps' instances are replaced with zero failed requests",
    )
    .option(
      '--prune',
      'stop the apps that left the file (otherwise they keep running, shown as not in config)',
    )
    .option('--dry-run', 'only show the plan; change nothing')
    .option('--yes', 'apply without asking')
    .option('--wait', 'follow the deployments the apply starts; exit 1 if one fails')
    .option('--json', 'print the plan (with --dry-run) or what was applied as JSON')
    .action(lazyAction(async () => (await import('../actions/apply.js')).apply));
}
