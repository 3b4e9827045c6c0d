import { Option, type Command } from 'commander';
import { lazyAction } from '../lazy-action.js';

/** ferry agent: one host's agent, connected to a `ferry server`. */
export function register(program: Command): void {
  program
    .command('agent')
    .description(
      "run this host's agent in the foreground: it enrolls with a join token once, then runs what the server's desired state says (its router and apps keep serving when it stops)",
    )
    .requiredOption(
      '--server <url>',
      "the server's address for agents (https://host:7443, as ferry server prints it)",
    )
    .option(
      '--token <join-token>',
      'a join token (ferry join-token create): needed only the first time, to enroll',
    )
    .option(
      '--ca-fingerprint <sha256>',
      "the server CA's fingerprint, as ferry server prints it (pinned on first use)",
    )
    .option('--ca-file <file>', "the server's CA as a PEM file, instead of a fingerprint")
    .option('--name <name>', "this host's name when it enrolls (default: its hostname)")
    .addOption(
      new Option('--label <key=value...>', 'a label of this host when it enrolls (role=web); repeatable'),
    )
    .addOption(
      new Option(
        '--data-dir <dir>',
        "the agent's data directory (default: $FERRY_AGENT_HOME, else ~/.ferry-agent)",
      ),
    )
    .action(lazyAction(async () => (await import('../actions/agent.js')).agent));
}
