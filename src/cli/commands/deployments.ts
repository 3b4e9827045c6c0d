import type { Command } from 'commander';
import { strategy, trafficPercent } from '../args.js';
import { lazyAction } from '../lazy-action.js';
import { COMMANDS } from '../../api/types.js';

const deployment = () => import('../actions/deployment.js');

/** deploy, rollback, restart, canary, pause, resume, promote, abort. */
export function register(program: Command): void {
  program
    .command('deploy')
    .description('deploy a release of an app; refused while another deployment of it runs')
    .argument('<app>')
    .argument('<version>')
    .option('--env <env>', 'environment (default: the first one)')
    .option('--strategy <kind>', "blue-green, canary or all-at-once (default: the app's)", strategy)
    .option(
      '--force',
      'deploy it even if the ledger marks it bad, or if it serves already (its instances replaced)',
    )
    .option(
      '--queue',
      'while a lock holds the app (ferry lock): queue the deploy until the lock is released or expires, instead of being refused',
    )
    .option(
      '--dry-run',
      'an environment on enrolled hosts: print the rollout plan (batches, the hosts in each, budgets, gates) and change nothing',
    )
    .option('--wait', 'show progress and exit with the outcome (0 succeeded, 1 failed or rolled back)')
    .option('--json', 'print the API response as JSON')
    .action(lazyAction(async () => (await deployment()).deploy));

  program
    .command('rollback')
    .description('go back to the last good release (or --to a named one) at once, from disk')
    .argument('<app>')
    .option('--env <env>', 'environment (default: the first one)')
    .option('--to <version>', 'roll back to this release (even one marked bad)')
    .option('--wait', 'show progress and exit with the outcome')
    .option('--json', 'print the API response as JSON')
    .action(lazyAction(async () => (await deployment()).rollback));

  program
    .command('restart')
    .description(
      "replace the serving release's instances one at a time, each new one healthy before an old one drains and stops (zero failed requests)",
    )
    .argument('<app>')
    .option('--env <env>', 'environment (default: the first one)')
    .option('--wait', 'show progress and exit with the outcome (0 succeeded, 1 failed or aborted)')
    .option('--json', 'print the API response as JSON')
    .action(lazyAction(async () => (await deployment()).restart));

  program
    .command('canary')
    .description(
      'set the share of the running canary step (its pause and analysis window start over at it; later steps keep their own)',
    )
    .argument('<app>')
    .requiredOption(
      '--weight <percent>',
      'percent of the requests for the new release, like 30% (above 0, at most 100)',
      trafficPercent('--weight', 'to take all traffic off the canary, abort it: ferry abort APP'),
    )
    .option('--env <env>', 'environment (default: the first one)')
    .option('--wait', 'show progress and exit with the outcome')
    .option('--json', 'print the API response as JSON')
    .action(lazyAction(async () => (await deployment()).canary));

  const commands = {
    pause: 'pause a canary at its current step',
    resume: 'resume a paused canary (after too few requests to judge a step: accept that step as passed)',
    promote: 'skip the remaining canary steps: 100% to the new release',
    abort: 'stop the deployment and go back to the previous release (--force: end it at once in any phase)',
  } as const;
  for (const name of COMMANDS) {
    const description = commands[name];
    const sub = program
      .command(name)
      .description(description)
      .argument('<app>')
      .option('--env <env>', 'environment (default: the first one)');
    if (name === 'abort')
      sub.option(
        '--force',
        'end it at once, whatever it waits on: before 100% traffic goes back to the previous release (aborted); after, it stays on the new one (succeeded)',
      );
    else
      sub.option(
        '--host <host>',
        "an environment on enrolled hosts: only this host's own canary (id or name), not the rollout",
      );
    sub
      .option('--wait', 'show progress and exit with the outcome')
      .option('--json', 'print the API response as JSON')
      .action(lazyAction(async () => (await deployment()).steer(name)));
  }
}
