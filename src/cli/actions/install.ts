import path from 'node:path';
import { defaultFerryHome } from '../../config/home.js';
import { messageOf } from '../../errors/ferry-error.js';
import { isUnderConsulWatch, readManifestUrl, readStdin } from '../../install/event.js';
import { parseBandwidth, parseCount, parseDuration, parseRsyncVerbose } from '../../install/flags.js';
import type { InstallOptions } from '../../install/run.js';

export interface InstallFlags {
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

/** ferry install: runs the manifest here; the exit code as stretcher's (see commands/install.ts). */
export async function install(argument: string | undefined, flags: InstallFlags): Promise<number> {
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
    // The install pipeline (fetch, verify, sync, hooks), loaded by this command only.
    const { runInstall } = await import('../../install/run.js');
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
