import { Command, Option } from 'commander';
import { normalizeInstallArgv } from '../../install/flags.js';
import { FERRY_VERSION } from '../../lib/version.js';
import type { InstallFlags } from '../actions/install.js';
import { lazyAction } from '../lazy-action.js';

/** Accepts Go-style flags (-timeout 10s, --rsync-verbose=-vv) by rewriting them before parsing. */
class InstallCommand extends Command {
  override parseOptions(argv: string[]): ReturnType<Command['parseOptions']> {
    return super.parseOptions(normalizeInstallArgv(argv));
  }
}

/**
 * ferry install [MANIFEST_URL]: a stretcher-compatible one-shot deploy of a manifest, for Consul
 * watch and Serf event handlers. It does not need the daemon. Exit 0 on success, 1 on failure,
 * but 0 when CONSUL_INDEX is set (a failing handler must not disturb consul watch); 2 for a bad
 * flag or flag value, whatever CONSUL_INDEX says (stretcher checks its flags before that rule too).
 */
export function register(program: Command): void {
  const command = new InstallCommand('install')
    // addCommand, unlike command(), inherits nothing: without this an unknown flag exits 1.
    .copyInheritedSettings(program)
    // stretcher's -v and -version, rewritten to --version, reach the subcommand.
    .version(FERRY_VERSION, '--version', 'print the version (also -v, -version)')
    .description('deploy a stretcher-style manifest (URL as argument, or a Consul/Serf event on stdin)')
    .argument(
      '[manifest-url]',
      'file://, http(s)://, s3:// or gs:// URL of the manifest (default: from stdin)',
    )
    .addOption(
      new Option('--max-bandwidth <bytes>', 'download speed limit in bytes/s: 10M = 10^7, 10Mi = 10 x 2^20'),
    )
    .addOption(
      new Option('--timeout <duration>', 'download deadline, retries included (0: default)').default('0'),
    )
    .addOption(
      new Option('--random-delay <duration>', 'sleep a random time in [0, duration) first').default('0'),
    )
    .addOption(new Option('--retry <count>', 'retries of a failed download').default('0'))
    .addOption(new Option('--retry-wait <duration>', 'pause between download retries').default('3s'))
    .addOption(
      new Option('--rsync-verbose <level>', 'stretcher\'s rsync verbosity: "", -v, -vv or -vvv').default(
        '-v',
      ),
    )
    .addOption(new Option('--command-timeout <duration>', 'deadline of each command (0: none)').default('0'))
    .addOption(
      new Option('--lock-wait <duration>', 'how long to wait for another install into the same dest').default(
        '10m',
      ),
    )
    .addOption(
      new Option('--cache-dir <dir>', 'download cache, by checksum (default: <ferry home>/cache/artifacts)'),
    )
    .addOption(new Option('--no-cache', 'neither read nor keep downloads in the cache'))
    .action(
      lazyAction(async () => {
        const { install } = await import('../actions/install.js');
        return async (argument: string | undefined, _flags: InstallFlags, self: Command) => {
          process.exitCode = await install(argument, self.optsWithGlobals<InstallFlags>());
        };
      }),
    );
  program.addCommand(command);
}
