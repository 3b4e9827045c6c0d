import { isFerryError, messageOf } from '../errors/ferry-error.js';
import type { Logger } from '../lib/logger.js';
import type { ReleaseIntake, Trigger } from '../releases/release.js';
import type { SourceCursor } from './cursor.js';
import { compareReleases, type FoundRelease, type ReleaseMark } from './found-release.js';

/**
 * A release could not be resolved (its checksums download failed) or the intake failed on it;
 * `progress` is the cursor after the offers made before it. The message is the cause's.
 */
export class OfferInterrupted extends Error {
  constructor(
    readonly progress: SourceCursor,
    cause: unknown,
  ) {
    super(messageOf(cause), { cause });
  }
}

export interface OfferContext {
  readonly app: string;
  readonly env: string | null;
  readonly trigger: Trigger;
  readonly intake: ReleaseIntake;
  readonly logger: Logger;
}

/**
 * Offers the releases newer than the newest already offered, oldest first (the intake's debounce
 * keeps the newest of a burst); returns the cursor to keep. On a first read (nothing offered yet)
 * only the newest release is offered: a source's history is not a burst to deploy.
 *
 * A release whose artifact cannot be resolved (no single asset, a bad checksums file) is skipped
 * with a logged reason and not remembered, so it is looked at again when the source changes (its
 * assets may still be uploading). A release whose resolution fails (a download), or an offer the
 * intake fails on (other than a conflict, which would fail again), throws OfferInterrupted with the
 * cursor as far as the offers got: the caller keeps that (with the old validators) and the next poll
 * offers the rest again.
 */
export async function offerNew(
  ctx: OfferContext,
  found: readonly FoundRelease[],
  cursor: SourceCursor,
): Promise<SourceCursor> {
  const offered = new Set(cursor.offered);
  const ordered = [...found].sort(compareReleases);
  const newer = ordered.filter(
    (r) => !offered.has(r.version) && (cursor.newest === null || compareReleases(r, cursor.newest) > 0),
  );
  const todo = cursor.newest === null && offered.size === 0 ? newer.slice(-1) : newer;
  let newest: ReleaseMark | null = cursor.newest;
  const done = [...cursor.offered];
  for (const release of todo) {
    let resolved;
    try {
      resolved = await release.resolve();
    } catch (error) {
      throw new OfferInterrupted({ ...cursor, newest, offered: done }, error);
    }
    if ('skip' in resolved) {
      ctx.logger.warn({ app: ctx.app, version: release.version, reason: resolved.skip }, 'release skipped');
      continue;
    }
    try {
      const outcomes = await ctx.intake.offer({
        app: ctx.app,
        version: release.version,
        artifact: resolved.artifact,
        changelog: release.changelog,
        publishedAt: release.publishedAt,
        env: ctx.env,
        trigger: ctx.trigger,
      });
      ctx.logger.info(
        { app: ctx.app, version: release.version, outcomes: outcomes.map((o) => `${o.env}: ${o.action}`) },
        'release offered',
      );
    } catch (error) {
      if (!isFerryError(error, 'FERRY_E_RELEASE_CONFLICT'))
        throw new OfferInterrupted(
          { ...cursor, newest, offered: done },
          new Error(`the release intake failed: ${messageOf(error)}`),
        );
      ctx.logger.warn(
        { app: ctx.app, version: release.version, reason: messageOf(error) },
        'release refused',
      );
    }
    done.push(release.version);
    newest = { version: release.version, publishedAt: release.publishedAt };
  }
  return { ...cursor, newest, offered: done };
}
