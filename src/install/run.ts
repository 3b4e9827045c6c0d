import { randomInt } from 'node:crypto';
import { chmod, mkdir, readFile, rm } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { runHook, type HookRun } from '../agent/hooks.js';
import { installRelease, RELEASE_RECORD } from '../artifacts/index.js';
import { FerryError, isFerryError, messageOf } from '../errors/ferry-error.js';
import { redactText } from '../lib/redact.js';
import { compileExcludes, parseExcludeFile } from './excludes.js';
import { FileList } from './file-list.js';
import { acquireDestLock, type DestLock } from './lock.js';
import { InstallLog } from './log.js';
import { fetchManifestText, parseManifest, type Manifest } from './manifest.js';
import { moveTree, syncTree, type SyncChange } from './sync.js';

export interface InstallOptions {
  manifestUrl: string;
  signal?: AbortSignal;
  /** Download deadline (fetch, retries and waits); 0 = the artifacts default. */
  timeoutMs: number;
  retries: number;
  retryWaitMs: number;
  /** Sleep a random time in [0, randomDelayMs) before starting. */
  randomDelayMs: number;
  /** Average download speed limit; 0 = unlimited. */
  maxBytesPerSecond: number;
  /** Per command; 0 = none. */
  commandTimeoutMs: number;
  /** How long to wait for another install into the same dest. */
  lockWaitMs: number;
  /** The host's download cache (by checksum); null or unset: none. */
  cacheDir?: string | null;
  /**
   * stretcher's -rsync-verbose as a count of v's: 1 (its default) logs each entry the rsync
   * strategy transfers or deletes, as `rsync -v` lists them; 2 and 3 also those up to date; 0 or
   * unset: the summary line only.
   */
  rsyncVerbosity?: number;
  env?: NodeJS.ProcessEnv;
  log?: InstallLog;
}

export type InstallResult = { ok: true; manifest: Manifest } | { ok: false; error: unknown };

/**
 * One stretcher-style deploy, in stretcher's order: manifest -> fetch and verify the archive -> pre
 * commands -> unpack into a temp dir -> chmod dest_mode -> sync to dest -> post commands; success
 * commands on success, failure commands on error, both with the run's log on stdin. Every command
 * runs in the caller's working directory, as stretcher's do. Never throws: the result says how it
 * went.
 */
export async function runInstall(options: InstallOptions): Promise<InstallResult> {
  const log = options.log ?? new InstallLog();
  let manifest: Manifest | null = null;
  try {
    if (options.randomDelayMs > 0) {
      const delay = randomInt(options.randomDelayMs);
      log.info(`sleeping ${delay} ms (random delay)`);
      await sleep(delay, undefined, options.signal ? { signal: options.signal } : {});
    }
    log.info(redactText(`loading manifest ${options.manifestUrl}`));
    manifest = parseManifest(await fetchManifestText(options.manifestUrl, options.signal), options.env);
    await deploy(manifest, options, log);
  } catch (error) {
    log.info(`Deploy manifest failed: ${messageOf(error)}`);
    if (manifest && !options.signal?.aborted) {
      try {
        await runCommands(hookRun('failure', manifest, options, log, log.text()));
      } catch (failureError) {
        log.info(messageOf(failureError));
      }
    }
    return { ok: false, error };
  }
  log.info('Deploy manifest succeeded.');
  try {
    await runCommands(hookRun('success', manifest, options, log, log.text()));
  } catch (error) {
    // The deploy is done; a failing notification does not undo it.
    log.info(messageOf(error));
  }
  return { ok: true, manifest };
}

async function deploy(manifest: Manifest, options: InstallOptions, log: InstallLog): Promise<void> {
  if (manifest.src === '') {
    log.info('no src: commands-only mode');
    await runCommands(hookRun('pre', manifest, options, log));
    await runCommands(hookRun('post', manifest, options, log));
    return;
  }
  const dest = resolve(manifest.dest);
  const lock = await acquireDestLock(dest, {
    waitMs: options.lockWaitMs,
    ...(options.signal ? { signal: options.signal } : {}),
    onWait: (holder) => log.info(`waiting for the install lock of ${dest} (held by ${holder})`),
  });
  // Staged beside dest, on its filesystem, so that mv and rsync both move files in by rename. One
  // name per dest: the lock is held, so a staging dir found here is a crashed run's leftover.
  const stagingRoot = join(dirname(dest), `.ferry-install-${basename(dest)}`);
  await rm(stagingRoot, { recursive: true, force: true });
  await mkdir(stagingRoot, { recursive: true });
  try {
    await syncRelease(manifest, dest, stagingRoot, options, log, lock);
  } finally {
    await rm(stagingRoot, { recursive: true, force: true });
    await lock.release();
  }
}

async function syncRelease(
  manifest: Manifest,
  dest: string,
  stagingRoot: string,
  options: InstallOptions,
  log: InstallLog,
  lock: DestLock,
): Promise<void> {
  log.info(redactText(`fetching ${manifest.src} (lock ${lock.path})`));
  if (options.maxBytesPerSecond > 0) log.info(`max bandwidth ${options.maxBytesPerSecond} bytes/s`);
  const installed = await installRelease({
    releasesDir: stagingRoot,
    version: 'staged',
    source: { url: manifest.src, checksum: manifest.checksum },
    // stretcher's rules: every src has a checksum (file:// too), and md5 and sha1 are accepted,
    // as the manifests stretcher users have carry them (its own example is a sha1).
    requireChecksum: true,
    allowWeakChecksums: true,
    // stretcher's `tar xf` as root keeps the archive's owners, and its rsync -a keeps them in dest.
    keepOwners: true,
    ...(options.signal ? { signal: options.signal } : {}),
    ...(options.timeoutMs > 0 ? { timeoutMs: options.timeoutMs } : {}),
    retries: options.retries,
    retryWaitMs: options.retryWaitMs,
    // stretcher waits the same time before every retry.
    retryMaxWaitMs: options.retryWaitMs,
    // stretcher retries a source file that is not there (yet): an archive still being copied.
    retryMissingFile: true,
    ...(options.maxBytesPerSecond > 0 ? { maxBytesPerSecond: options.maxBytesPerSecond } : {}),
    ...(options.cacheDir ? { cacheDir: options.cacheDir } : {}),
    // stretcher runs pre once the archive is fetched and its checksum matched, before unpacking it.
    beforeUnpack: async () => {
      log.info('checksum ok');
      await runCommands(hookRun('pre', manifest, options, log));
    },
  });
  const staged = installed.dir;
  await rm(join(staged, RELEASE_RECORD), { force: true });
  log.info(`verified ${installed.checksum} (${installed.bytes} bytes), unpacked`);
  const algorithm = installed.checksum.slice(0, installed.checksum.indexOf(':'));
  if (algorithm === 'md5' || algorithm === 'sha1') {
    log.info(
      `note: ${algorithm} is a weak checksum (collisions can be forged); a sha256 in the manifest is safer`,
    );
  }
  await chmod(staged, manifest.destMode);
  if (manifest.syncStrategy === 'mv') {
    log.info(`moving into ${dest}`);
    await moveTree(staged, dest);
  } else {
    // stretcher's order: --exclude-from first, then one --exclude per item (the first match wins).
    const patterns =
      manifest.excludeFrom === ''
        ? []
        : parseExcludeFile(await readExcludeFrom(staged, manifest.excludeFrom));
    patterns.push(...manifest.excludes);
    const listed = new FileList(options.rsyncVerbosity ?? 0);
    const stats = await syncTree(staged, dest, compileExcludes(patterns), {
      consumeSource: true,
      ...(options.signal ? { signal: options.signal } : {}),
      ...(listed.wanted ? { onChange: (change: SyncChange) => listed.add(change) } : {}),
    });
    for (const line of listed.lines()) log.info(line);
    log.info(
      `synced into ${dest}: ${stats.copied} copied, ${stats.deleted} deleted, ${stats.unchanged} unchanged`,
    );
  }
  await runCommands(hookRun('post', manifest, options, log));
}

async function readExcludeFrom(staged: string, name: string): Promise<string> {
  const path = resolve(staged, name);
  if (!path.startsWith(`${staged}/`)) {
    throw new FerryError(
      'FERRY_E_MANIFEST_INVALID',
      `exclude_from: expected a file inside the archive, got ${JSON.stringify(name)}`,
      {
        where: 'exclude_from',
      },
    );
  }
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    throw new FerryError(
      'FERRY_E_MANIFEST_INVALID',
      `exclude_from: ${name} cannot be read from the archive: ${messageOf(error)}`,
      { where: 'exclude_from' },
      { cause: error },
    );
  }
}

/**
 * One of the manifest's command lists as a hook, run in the caller's working directory with the
 * caller's environment; success and failure commands get the run's log on stdin. FERRY_SRC and
 * FERRY_DEST name the install.
 */
function hookRun(
  hook: keyof Manifest['commands'],
  manifest: Manifest,
  options: InstallOptions,
  log: InstallLog,
  stdin?: string,
): HookRun {
  return {
    hook,
    lines: manifest.commands[hook],
    ...(stdin !== undefined ? { stdin } : {}),
    // A command its user runs: the lines see the caller's environment, as with stretcher.
    env: process.env,
    vars: {
      FERRY_MANIFEST_URL: options.manifestUrl,
      FERRY_SRC: manifest.src,
      FERRY_DEST: manifest.dest === '' ? '' : resolve(manifest.dest),
    },
    timeoutMs: options.commandTimeoutMs,
    ...(options.signal ? { signal: options.signal } : {}),
    onOutput: (line: string) => log.info(`  | ${line}`),
  };
}

/**
 * Runs a command list; a line that exits non-zero fails in stretcher's words, `failed: <cmd> exit
 * status N`, which handlers' log watchers may match. Timeouts and signals keep runHook's words.
 */
async function runCommands(run: HookRun): Promise<void> {
  try {
    await runHook(run);
  } catch (error) {
    const { line, exitCode } = isFerryError(error, 'FERRY_E_HOOK_FAILED') ? error.details : {};
    // runHook's message for a plain non-zero exit, exactly (its output goes to the log, not here).
    const plainExit = `${run.hook} hook failed: ${String(line)}: exit status ${String(exitCode)}`;
    if (!isFerryError(error) || typeof exitCode !== 'number' || error.message !== plainExit) throw error;
    throw new FerryError(
      'FERRY_E_HOOK_FAILED',
      `failed: ${String(line)} exit status ${exitCode}`,
      error.details,
      { cause: error },
    );
  }
}
