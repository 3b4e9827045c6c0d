import { Command, CommanderError, Option } from 'commander';
import { isFerryError, messageOf } from '../errors/ferry-error.js';
import { FERRY_VERSION } from '../lib/version.js';
import { registerCommands } from './command-groups.js';
import { UnknownCodeError } from '../errors/unknown-code-error.js';

/** stretcher's flags are its own: `-c` would swallow `-command-timeout`. */
const WITHOUT_CONFIG_OPTION = new Set(['install']);

/**
 * Exit codes: 0 ok, 1 the operation failed (e.g. the deployment was rolled back), 2 usage or config,
 * 130 Ctrl-C stopped a --wait (the deployment goes on).
 */
export async function main(argv: readonly string[]): Promise<number> {
  const program = new Command('ferry')
    .description('Ferry: continuous deployment to your own hosts, with zero failed requests')
    .version(FERRY_VERSION)
    .addOption(
      new Option(
        '--home <dir>',
        'data directory of the daemon (default: $FERRY_HOME, else data_dir, else ~/.ferry)',
      ),
    )
    .addOption(
      new Option(
        '--url <url>',
        'the daemon API address (default: from <home>/daemon.json, else api.listen)',
      ).env('FERRY_URL'),
    )
    .addOption(new Option('--token <token>', 'API token (default: <home>/api-token)').env('FERRY_TOKEN'))
    .exitOverride()
    .configureOutput({ writeErr: (text) => process.stderr.write(text) })
    .showHelpAfterError('(run with --help for usage)');
  await registerCommands(program, argv);
  addConfigOption(program);
  try {
    await program.parseAsync(argv, { from: 'user' });
    return process.exitCode === undefined ? 0 : Number(process.exitCode);
  } catch (error) {
    return reportError(error);
  }
}

/**
 * Every command reads a configuration (-c FILE, else ./ferry.yaml when present) to find its daemon
 * as `ferry up` does; registered here once, so a new command cannot miss it.
 */
function addConfigOption(parent: Command): void {
  for (const command of parent.commands) {
    if (WITHOUT_CONFIG_OPTION.has(command.name())) continue;
    if (command.commands.length > 0) addConfigOption(command);
    else if (!command.options.some((o) => o.long === '--config'))
      command.option('-c, --config <file>', 'the configuration file (default: ./ferry.yaml if present)');
  }
}

/** The one place an error becomes a message and an exit code. */
function reportError(error: unknown): number {
  if (error instanceof CommanderError) {
    // Commander already printed its message; help and version are not errors.
    return error.code === 'commander.helpDisplayed' ||
      error.code === 'commander.version' ||
      error.exitCode === 0
      ? 0
      : 2;
  }
  if (isFerryError(error) || error instanceof UnknownCodeError) {
    process.stderr.write(`ferry: ${error.message}\n  (${error.code})\n`);
    return error.exitCode;
  }
  process.stderr.write(`ferry: unexpected error: ${messageOf(error)}\n`);
  if (process.env.FERRY_DEBUG && error instanceof Error) process.stderr.write(`${error.stack ?? ''}\n`);
  return 1;
}
