import type { Command } from 'commander';
import { lockTtl } from '../args.js';
import { lazyAction } from '../lazy-action.js';

const locks = () => import('../actions/locks.js');

/** lock, unlock, locks: an environment's or an app's deploys and restarts held until released or expired. */
export function register(program: Command): void {
  program
    .command('lock')
    .description(
      'lock an environment (every app of it) or one app in it: deploys and restarts are refused (or queued with deploy --queue) until it is unlocked or expires',
    )
    .argument('<env>')
    .argument('[app]', 'only this app in the environment')
    .option('--reason <text>', 'why (required): shown to everyone the lock refuses')
    .option('--ttl <duration>', 'how long it holds, like 2h or 3d (at most 7d)', lockTtl, '24h')
    .option('--json', 'print the API response as JSON')
    .action(lazyAction(async () => (await locks()).lock));

  program
    .command('unlock')
    .description('release the lock of an environment, or of one app in it; deploys queued behind it start')
    .argument('<env>')
    .argument('[app]', "the app's own lock (an environment's lock and an app's are released apart)")
    .option('--json', 'print the API response as JSON')
    .action(lazyAction(async () => (await locks()).unlock));

  program
    .command('locks')
    .description('the locks that hold (owner, reason, expiry) and the deploys queued behind them')
    .option('--env <env>', 'only this environment')
    .option('--json', 'print the API response as JSON')
    .action(lazyAction(async () => (await locks()).list));
}
