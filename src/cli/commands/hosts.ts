import type { Command } from 'commander';
import { durationText, positiveInt } from '../args.js';
import { lazyAction } from '../lazy-action.js';

/** hosts (and hosts revoke), join-token create|list|revoke: the fleet's hosts and their enrollment. */
export function register(program: Command): void {
  const hosts = program
    .command('hosts')
    .description(
      'the hosts, enrolled or heard from, and their agents: last seen, labels, revisions, what each runs',
    )
    .option('--json', 'print the API response as JSON')
    // A command with subcommands gets no -c from main.ts; this one runs itself too.
    .option('-c, --config <file>', 'the configuration file (default: ./ferry.yaml if present)')
    .action(lazyAction(async () => (await import('../actions/hosts.js')).hosts));
  hosts
    .command('revoke')
    .description("revoke an enrolled host: its agent's credential is refused from its next request on")
    .argument('<host>', "the host's id or name (from ferry hosts)")
    .option('--json', 'print the API response as JSON')
    .action(lazyAction(async () => (await import('../actions/hosts.js')).revokeHost));

  const joinToken = program
    .command('join-token')
    .description('join tokens, with which agents enroll their hosts (see docs/trust.md)');
  joinToken
    .command('create')
    .description('create a join token; it is shown this once, with the `ferry agent` line to run on a host')
    .option('--ttl <duration>', 'how long it enrolls hosts, 1s to 365d', durationText('--ttl'), '1h')
    .option('--uses <n>', 'how many hosts it enrolls (up to 10000)', positiveInt('--uses'), 1)
    .option(
      '--label <key=value>',
      'a label every host it enrolls gets (repeat for more)',
      (word: string, words: string[] | undefined) => [...(words ?? []), word],
    )
    .option('--json', 'print the API response as JSON (the token included)')
    .action(lazyAction(async () => (await import('../actions/join-tokens.js')).createJoinToken));
  joinToken
    .command('list')
    .description('the join tokens, without their secret: state, uses left, expiry, labels')
    .option('--json', 'print the API response as JSON')
    .action(lazyAction(async () => (await import('../actions/join-tokens.js')).listJoinTokens));
  joinToken
    .command('revoke')
    .description('revoke a join token: it enrolls no one after this (hosts it enrolled stay)')
    .argument('<id>', "the token's id (from ferry join-token list)")
    .option('--json', 'print the API response as JSON')
    .action(lazyAction(async () => (await import('../actions/join-tokens.js')).revokeJoinToken));
}
