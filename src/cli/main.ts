import { Command, CommanderError, Option } from 'commander';
import { isFerryError, messageOf } from '../errors/ferry-error.js';
import { FERRY_VERSION } from '../lib/version.js';
import { registerChangeCommands } from './commands/changes.js';
import { registerConfigCommands } from './commands/config.js';
import { registerDeploymentCommands } from './commands/deployments.js';
import { registerInstallCommand } from './commands/install.js';
import { registerReadCommands } from './commands/read.js';
import { registerUpCommand } from './commands/up.js';

/** Exit codes: 0 ok, 1 the operation failed (e.g. the deployment was rolled back), 2 usage or config. */
export async function main(argv: readonly string[]): Promise<number> {
  const program = new Command('ferry')
    .description('Ferry: continuous deployment to your own hosts, with zero failed requests')
    .version(FERRY_VERSION)
    .addOption(new Option('--home <dir>', 'data directory of the daemon (default: $FERRY_HOME or ~/.ferry)'))
    .addOption(
      new Option('--url <url>', 'the daemon API address (default: from <home>/daemon.json)').env('FERRY_URL'),
    )
    .addOption(new Option('--token <token>', 'API token (default: <home>/api-token)').env('FERRY_TOKEN'))
    .exitOverride()
    .configureOutput({ writeErr: (text) => process.stderr.write(text) })
    .showHelpAfterError('(run with --help for usage)');
  registerUpCommand(program);
  registerConfigCommands(program);
  registerDeploymentCommands(program);
  registerReadCommands(program);
  registerInstallCommand(program);
  registerChangeCommands(program);
  try {
    await program.parseAsync(argv, { from: 'user' });
    return process.exitCode === undefined ? 0 : Number(process.exitCode);
  } catch (error) {
    return reportError(error);
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
  if (isFerryError(error)) {
    process.stderr.write(`ferry: ${error.message}\n  (${error.code})\n`);
    return error.exitCode;
  }
  process.stderr.write(`ferry: unexpected error: ${messageOf(error)}\n`);
  if (process.env.FERRY_DEBUG && error instanceof Error) process.stderr.write(`${error.stack ?? ''}\n`);
  return 1;
}
