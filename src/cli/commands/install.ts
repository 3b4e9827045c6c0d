import { Command, Option } from 'commander';
import path from 'node:path';
import { defaultFerryHome } from '../../config/load.js';
import { messageOf } from '../../errors/ferry-error.js';
import { FERRY_VERSION } from '../../lib/version.js';
import {
  normalizeInstallArgv,
  parseBandwidth,
  parseCount,
  parseDuration,
  parseRsyncVerbose,
} from '../../install/flags.js';
import { isUnderConsulWatch, readManifestUrl, readStdin } from '../../install/event.js';
import { runInstall, type InstallOptions } from '../../install/run.js';

interface InstallFlags {
  maxBandwidth?: string;
  timeout: string;
  randomDelay: string;
  retry: string;
  retryWait: string;
  rsyncVerbose: string;
  commandTimeout: string;
  lockWait: string;
  /** false with --no-cache. */
  cache: boolean;
  cacheDir?: string;
  home?: string;
}

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
export function registerInstallCommand(program: Command): void {
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
    .action(async (argument: string | undefined, _flags: InstallFlags, self: Command) => {
      process.exitCode = await install(argument, self.optsWithGlobals<InstallFlags>());
    });
  program.addCommand(command);
}

async function install(argument: string | undefined, flags: InstallFlags): Promise<number> {
  // A bad flag value is a usage error (exit 2) before anything runs, as with stretcher's flags: it
  // is not turned into exit 0 under consul watch, where it would go unnoticed.
  const options = parseOptions(flags);
  const failedExit = isUnderConsulWatch() ? 0 : 1;
  const controller = new AbortController();
  const onSignal = (signal: NodeJS.Signals): void => controller.abort(new Error(`interrupted by ${signal}`));
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    const manifestUrl = readManifestUrl(argument, argument ? '' : await readStdin());
    const result = await runInstall({ ...options, manifestUrl, signal: controller.signal });
    if (result.ok) return 0;
    const reason: unknown = controller.signal.aborted ? controller.signal.reason : result.error;
    process.stderr.write(`Deploy manifest failed: ${messageOf(reason)}\n`);
    return failedExit;
  } catch (error) {
    process.stderr.write(`Deploy manifest failed: ${messageOf(error)}\n`);
    return failedExit;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

/** The flags, validated; throws FERRY_E_USAGE naming the flag. */
function parseOptions(flags: InstallFlags): Omit<InstallOptions, 'manifestUrl' | 'signal'> {
  // -rsync-verbose as stretcher checks it; its v's say how much of the file list the log gets.
  const rsyncVerbosity = parseRsyncVerbose(flags.rsyncVerbose, '--rsync-verbose').length - 1;
  return {
    rsyncVerbosity: Math.max(0, rsyncVerbosity),
    timeoutMs: parseDuration(flags.timeout, '--timeout', 'int'),
    randomDelayMs: parseDuration(flags.randomDelay, '--random-delay', 'decimal'),
    retries: parseCount(flags.retry, '--retry'),
    retryWaitMs: parseDuration(flags.retryWait, '--retry-wait', 'int'),
    maxBytesPerSecond: parseBandwidth(flags.maxBandwidth ?? '', '--max-bandwidth'),
    commandTimeoutMs: parseDuration(flags.commandTimeout, '--command-timeout'),
    lockWaitMs: parseDuration(flags.lockWait, '--lock-wait'),
    cacheDir: flags.cache
      ? (flags.cacheDir ?? path.join(flags.home ?? defaultFerryHome(), 'cache', 'artifacts'))
      : null,
  };
}
