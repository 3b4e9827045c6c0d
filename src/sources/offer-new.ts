import { isFerryError, messageOf } from '../errors/ferry-error.js';
import type { Logger } from '../lib/logger.js';
import type { ReleaseIntake, Trigger } from '../releases/release.js';
import type { SourceCursor } from './cursor.js';
import { compareReleases, type FoundRelease, type ReleaseMark } from './found-release.js';

/** The intake failed on an offer; `progress` is the cursor after the offers made before it. */
export class OfferFailed extends Error {
  constructor(
    readonly progress: SourceCursor,
    cause: unknown,
  ) {
    super(`the release intake failed: ${messageOf(cause)}`, { cause });
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
 * assets may still be uploading). An offer the intake fails on (other than a conflict, which would
 * fail again) throws OfferFailed with the cursor as far as the offers got: the caller keeps that
 * (with the old validators) and the next poll offers the rest again.
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
    const resolved = await release.resolve();
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
        throw new OfferFailed({ ...cursor, newest, offered: done }, error);
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
