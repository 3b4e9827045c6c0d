import { createHash } from 'node:crypto';
import type { AppConfig, ConfigSource } from '../config/types.js';
import { messageOf } from '../errors/ferry-error.js';
import type { Clock, TimerHandle } from '../lib/clock.js';
import type { Logger } from '../lib/logger.js';
import type { ReleaseIntake } from '../releases/release.js';
import type { KvStore } from '../store/kv/kv.js';
import type { SourceKind } from './cursor.js';
import { githubSource } from './github/github-source.js';
import { httpSource } from './http/http-source.js';
import { RateLimited, type ReleaseSource } from './source.js';

/** How often the configuration is looked at for sources added or removed by `ferry apply`. */
export const CONFIG_CHECK_MS = 5_000;
/** The longest wait after failures: a broken source is still tried a few times an hour. */
export const MAX_BACKOFF_MS = 15 * 60_000;

export interface ReleaseSourcesOptions {
  readonly config: ConfigSource;
  readonly kv: KvStore;
  readonly intake: ReleaseIntake;
  readonly clock: Clock;
  readonly logger: Logger;
  /** The fetch both kinds of source use (tests, a proxy); global fetch by default. */
  readonly fetch?: typeof globalThis.fetch;
}

/** The running release sources of every app (docs/triggers.md#release-sources). */
export interface ReleaseSources {
  /** Polls the app's sources now (its next polls are scheduled from this one); resolves when done. */
  pollNow(app: string): Promise<void>;
  /**
   * When the app's source of this kind polls next (ms since the epoch, on the clock); null when it
   * has none, or it is polling now. Shows a backoff or a rate limit's wait.
   */
  nextPollAt(app: string, kind: SourceKind): number | null;
  /** Stops every source: timers cleared, requests in flight aborted and waited for. */
  stop(): Promise<void>;
}

/** The wait after `failures` failed polls in a row: twice the interval, doubling, capped. */
export function backoffMs(intervalMs: number, failures: number): number {
  return Math.min(intervalMs * 2 ** Math.min(failures, 20), Math.max(MAX_BACKOFF_MS, intervalMs));
}

interface Watch {
  readonly app: string;
  readonly kind: SourceKind;
  /** The settings it was made from: another fingerprint means `ferry apply` changed them. */
  readonly fingerprint: string;
  readonly intervalMs: number;
  readonly source: ReleaseSource;
  readonly abort: AbortController;
  timer: TimerHandle | null;
  dueAt: number | null;
  running: Promise<void> | null;
  failures: number;
  stopped: boolean;
}

/**
 * Starts a watcher for every source in the configuration and follows `ferry apply`: the
 * configuration is re-read every few seconds and sources added, changed or removed are started or
 * stopped. Each watcher polls on the clock at its interval; a failing poll is logged (never with a
 * token) and the next one waits longer (backoff); a spent rate limit waits for its reset. A watcher
 * never dies of a failed poll.
 */
export function startReleaseSources(opts: ReleaseSourcesOptions): ReleaseSources {
  const { clock, logger } = opts;
  const watches = new Map<string, Watch>();
  let stopped = false;

  const schedule = (watch: Watch, delayMs: number): void => {
    if (watch.stopped) return;
    if (watch.timer !== null) clock.clearTimeout(watch.timer);
    watch.dueAt = clock.now() + delayMs;
    watch.timer = clock.setTimeout(() => {
      watch.timer = null;
      watch.dueAt = null;
      void run(watch);
    }, delayMs);
  };

  const pollOnce = async (watch: Watch): Promise<void> => {
    let delay = watch.intervalMs;
    try {
      const result = await watch.source.poll(watch.abort.signal);
      watch.failures = 0;
      if (result.notBefore !== null) {
        delay = Math.max(delay, result.notBefore - clock.now());
        logger.warn(
          { app: watch.app, source: watch.source.label, waitMs: delay },
          'release source rate limit spent',
        );
      }
    } catch (error) {
      if (watch.stopped) return;
      if (error instanceof RateLimited) {
        delay = Math.max(watch.intervalMs, error.notBefore - clock.now());
        logger.warn(
          { app: watch.app, source: watch.source.label, reason: error.message, waitMs: delay },
          'release source rate limited',
        );
      } else {
        watch.failures += 1;
        delay = backoffMs(watch.intervalMs, watch.failures);
        logger.warn(
          {
            app: watch.app,
            source: watch.source.label,
            reason: messageOf(error),
            failures: watch.failures,
            waitMs: delay,
          },
          'release source poll failed',
        );
      }
    }
    schedule(watch, delay);
  };

  const run = (watch: Watch): Promise<void> => {
    if (watch.stopped) return Promise.resolve();
    if (watch.running !== null) return watch.running;
    const running = pollOnce(watch).finally(() => {
      watch.running = null;
    });
    watch.running = running;
    return running;
  };

  const stopWatch = async (key: string, watch: Watch): Promise<void> => {
    watch.stopped = true;
    watches.delete(key);
    if (watch.timer !== null) clock.clearTimeout(watch.timer);
    watch.abort.abort(new Error('release source stopped'));
    await watch.running?.catch(() => {});
  };

  const wanted = (): Map<string, { app: string; kind: SourceKind; make: () => Watch }> => {
    const out = new Map<string, { app: string; kind: SourceKind; make: () => Watch }>();
    for (const [app, config] of Object.entries<AppConfig>(opts.config.current.apps)) {
      const { github, http } = config.sources;
      if (github !== null) {
        // A rotated token restarts the watcher: the fingerprint holds a digest of it, never the token.
        const fingerprint = JSON.stringify({ ...github, token: digestOf(github.token?.reveal() ?? '') });
        out.set(`${app}\0github\0${fingerprint}`, {
          app,
          kind: 'github',
          make: () =>
            newWatch(app, 'github', fingerprint, github.intervalMs, () =>
              githubSource({
                app,
                settings: github,
                kv: opts.kv,
                intake: opts.intake,
                clock,
                logger,
                fetch: opts.fetch,
              }),
            ),
        });
      }
      if (http !== null) {
        const fingerprint = JSON.stringify({ ...http, headers: digestOf(JSON.stringify([...http.headers])) });
        out.set(`${app}\0http\0${fingerprint}`, {
          app,
          kind: 'http',
          make: () =>
            newWatch(app, 'http', fingerprint, http.intervalMs, () =>
              httpSource({
                app,
                settings: http,
                kv: opts.kv,
                intake: opts.intake,
                clock,
                logger,
                fetch: opts.fetch,
              }),
            ),
        });
      }
    }
    return out;
  };

  const newWatch = (
    app: string,
    kind: SourceKind,
    fingerprint: string,
    intervalMs: number,
    make: (abort: AbortController) => ReleaseSource,
  ): Watch => {
    const abort = new AbortController();
    return {
      app,
      kind,
      fingerprint,
      intervalMs,
      source: make(abort),
      abort,
      timer: null,
      dueAt: null,
      running: null,
      failures: 0,
      stopped: false,
    };
  };

  /** Starts what the configuration adds, stops what it removed or changed. */
  const sync = async (): Promise<void> => {
    if (stopped) return;
    const want = wanted();
    const gone = [...watches].filter(([key]) => !want.has(key));
    await Promise.all(gone.map(([key, watch]) => stopWatch(key, watch)));
    for (const [key, spec] of want) {
      if (watches.has(key) || stopped) continue;
      const watch = spec.make();
      watches.set(key, watch);
      logger.info({ app: spec.app, source: watch.source.label }, 'release source started');
      // The first poll is at once: a daemon started after a release finds it now.
      schedule(watch, 0);
    }
  };

  let syncing: Promise<void> = Promise.resolve();
  const syncSerially = (): Promise<void> => {
    syncing = syncing.then(sync).catch((error: unknown) => {
      logger.error({ reason: messageOf(error) }, 'release sources could not follow the configuration');
    });
    return syncing;
  };

  const configTimer = clock.setInterval(() => void syncSerially(), CONFIG_CHECK_MS);
  void syncSerially();

  return {
    async pollNow(app: string): Promise<void> {
      await syncSerially();
      const mine = [...watches.values()].filter((w) => w.app === app);
      for (const watch of mine) {
        // A poll in flight finishes first; this one then reads what it left.
        await watch.running;
        if (watch.timer !== null) clock.clearTimeout(watch.timer);
        watch.timer = null;
        watch.dueAt = null;
        await run(watch);
      }
    },
    nextPollAt(app: string, kind: SourceKind): number | null {
      for (const watch of watches.values()) if (watch.app === app && watch.kind === kind) return watch.dueAt;
      return null;
    },
    async stop(): Promise<void> {
      stopped = true;
      clock.clearInterval(configTimer);
      await syncing;
      await Promise.all([...watches].map(([key, watch]) => stopWatch(key, watch)));
    },
  };
}

function digestOf(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}
