import { Command, Option } from 'commander';
import path from 'node:path';
import { defaultFerryHome } from '../../config/load.js';
import { messageOf } from '../../errors/ferry-error.js';
import { parseBandwidth, parseCount, parseDuration, normalizeInstallArgv } from '../../install/flags.js';
import { readManifestUrl, readStdin } from '../../install/event.js';
import { runInstall } from '../../install/run.js';

interface InstallFlags {
  maxBandwidth?: string;
  timeout: string;
  randomDelay: string;
  retry: string;
  retryWait: string;
  commandTimeout: string;
  lockWait: string;
  /** false with --no-cache. */
  cache: boolean;
  cacheDir?: string;
  home?: string;
}

/** Accepts stretcher's single-dash long flags (-timeout 10s) by rewriting them before parsing. */
class InstallCommand extends Command {
  override parseOptions(argv: string[]): ReturnType<Command['parseOptions']> {
    return super.parseOptions(normalizeInstallArgv(argv));
  }
}

/**
 * ferry install [MANIFEST_URL]: a stretcher-compatible one-shot deploy of a manifest, for Consul
 * watch and Serf event handlers. It does not need the daemon. Exit 0 on success, 1 on failure,
 * but 0 when CONSUL_INDEX is set (a failing handler must not disturb consul watch).
 */
export function registerInstallCommand(program: Command): void {
  const command = new InstallCommand('install')
    .description('deploy a stretcher-style manifest (URL as argument, or a Consul/Serf event on stdin)')
    .argument(
      '[manifest-url]',
      'file://, http(s)://, s3:// or gs:// URL of the manifest (default: from stdin)',
    )
    .addOption(new Option('--max-bandwidth <bytes>', 'download speed limit in bytes/s, e.g. 10M, 512K'))
    .addOption(
      new Option('--timeout <duration>', 'download deadline, retries included (0: default)').default('0'),
    )
    .addOption(
      new Option('--random-delay <duration>', 'sleep a random time in [0, duration) first').default('0'),
    )
    .addOption(new Option('--retry <count>', 'retries of a failed download').default('0'))
    .addOption(new Option('--retry-wait <duration>', 'pause between download retries').default('3s'))
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
  const failedExit = process.env.CONSUL_INDEX !== undefined ? 0 : 1;
  const controller = new AbortController();
  const onSignal = (signal: NodeJS.Signals): void => controller.abort(new Error(`interrupted by ${signal}`));
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    const options = {
      timeoutMs: parseDuration(flags.timeout, '--timeout'),
      randomDelayMs: parseDuration(flags.randomDelay, '--random-delay'),
      retries: parseCount(flags.retry, '--retry'),
      retryWaitMs: parseDuration(flags.retryWait, '--retry-wait'),
      maxBytesPerSecond: flags.maxBandwidth ? parseBandwidth(flags.maxBandwidth, '--max-bandwidth') : 0,
      commandTimeoutMs: parseDuration(flags.commandTimeout, '--command-timeout'),
      lockWaitMs: parseDuration(flags.lockWait, '--lock-wait'),
      cacheDir: flags.cache
        ? (flags.cacheDir ?? path.join(flags.home ?? defaultFerryHome(), 'cache', 'artifacts'))
        : null,
    };
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
