import type { Octokit } from '@octokit/rest';
import picomatch from 'picomatch';
import type { GithubSourceConfig } from '../../config/source-settings.js';
import { messageOf } from '../../errors/ferry-error.js';
import type { Clock } from '../../lib/clock.js';
import type { Logger } from '../../lib/logger.js';
import { redactText } from '../../lib/redact.js';
import { isValidVersion, versionProblem } from '../../lib/release-version.js';
import type { KvStore } from '../../store/kv/kv.js';
import type { ReleaseIntake } from '../../releases/release.js';
import { MAX_CHECKSUMS_BYTES, checksumOf } from '../checksums.js';
import { readCursor, writeCursor } from '../cursor.js';
import {
  changelogOf,
  timeOf,
  versionOfTag,
  type FoundRelease,
  type ResolvedArtifact,
} from '../found-release.js';
import { OfferInterrupted, offerNew } from '../offer-new.js';
import { RateLimited, notBeforeOf, type PollResult, type ReleaseSource } from '../source.js';

/** One request's deadline: a GitHub that hangs must not hold the watcher. */
const REQUEST_TIMEOUT_MS = 30_000;

/** Releases read per poll: a burst larger than this between two polls is beyond any debounce. */
const PER_PAGE = 30;

/** Signature files beside a SHA256SUMS (SHA256SUMS.asc) match its default glob but are not it. */
const SIGNATURE = /\.(asc|sig|minisig|pem|sigstore|bundle)$/i;

type Release = Awaited<ReturnType<Octokit['rest']['repos']['listReleases']>>['data'][number];
type Asset = Release['assets'][number];

/** octokit's RequestError (not a dependency of Ferry's own): an HTTP status and the response's headers. */
interface RequestError {
  readonly status: number;
  readonly message: string;
  readonly response?: { readonly headers: Readonly<Record<string, string | number | undefined>> };
}

function isRequestError(error: unknown): error is RequestError {
  return (
    error instanceof Error &&
    error.name === 'HttpError' &&
    typeof (error as { status?: unknown }).status === 'number'
  );
}

export interface GithubSourceOptions {
  readonly app: string;
  readonly settings: GithubSourceConfig;
  readonly kv: KvStore;
  readonly intake: ReleaseIntake;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly fetch?: typeof globalThis.fetch;
}

/**
 * Watches a repository's releases through GitHub's REST API with the real octokit client. Each poll
 * is a conditional request (If-None-Match with the kept ETag): GitHub answers 304 without spending
 * the rate limit when nothing changed.
 */
export function githubSource(opts: GithubSourceOptions): ReleaseSource {
  const { app, settings, clock, logger } = opts;
  const [owner = '', repo = ''] = settings.repository.split('/');
  const token = settings.token?.reveal() ?? null;
  const secrets = token === null ? [] : [token];
  // Loaded with the first poll: a daemon without a GitHub source never loads octokit (its memory).
  let octokit: Octokit | null = null;
  const client = async (): Promise<Octokit> =>
    (octokit ??= new (await import('@octokit/rest')).Octokit({
      baseUrl: settings.baseUrl,
      ...(token === null ? {} : { auth: token }),
      userAgent: 'ferry',
      // octokit's own lines (deprecations) go to Ferry's log; its per-request lines are noise.
      log: {
        debug: () => {},
        info: () => {},
        warn: (message: string) => logger.warn({ app }, redactText(message, secrets)),
        error: (message: string) => logger.error({ app }, redactText(message, secrets)),
      },
      request: opts.fetch === undefined ? {} : { fetch: opts.fetch },
    }));
  const isAsset = picomatch(settings.asset);
  const isChecksums = picomatch(settings.checksums);
  const label = `github:${settings.repository}`;
  const identity = `${settings.baseUrl}/repos/${settings.repository}`;
  const offerContext = {
    app,
    env: settings.env,
    trigger: { kind: 'watcher', actor: `watcher:github:${settings.repository}` } as const,
    intake: opts.intake,
    logger,
  };

  /** A RequestError as a line for the log: status and GitHub's message, never the token. */
  const failure = (error: unknown): Error => {
    if (isRequestError(error)) {
      const headers = error.response?.headers ?? {};
      const remaining = headers['x-ratelimit-remaining'];
      const retryAfter = headers['retry-after'];
      if ((error.status === 403 || error.status === 429) && (remaining === '0' || retryAfter !== undefined))
        return new RateLimited(
          `GitHub's rate limit is spent (${error.status})`,
          notBeforeOf(
            clock,
            { retryAfter: retryAfter?.toString(), reset: headers['x-ratelimit-reset']?.toString() },
            60_000,
          ),
        );
      return new Error(redactText(`GitHub answered ${error.status} for ${label}: ${error.message}`, secrets));
    }
    return new Error(redactText(`GitHub could not be reached for ${label}: ${messageOf(error)}`, secrets));
  };

  const downloadChecksums = async (asset: Asset, signal: AbortSignal): Promise<string> => {
    const response = await (
      await client()
    ).rest.repos.getReleaseAsset({
      owner,
      repo,
      asset_id: asset.id,
      headers: { accept: 'application/octet-stream' },
      request: { signal: AbortSignal.any([signal, AbortSignal.timeout(REQUEST_TIMEOUT_MS)]) },
    });
    const data = response.data as unknown;
    const bytes =
      data instanceof ArrayBuffer
        ? Buffer.from(data)
        : typeof data === 'string'
          ? Buffer.from(data)
          : Buffer.from(JSON.stringify(data));
    if (bytes.length > MAX_CHECKSUMS_BYTES) throw new Error(`it is larger than ${MAX_CHECKSUMS_BYTES} bytes`);
    return bytes.toString('utf8');
  };

  const resolve = async (release: Release, signal: AbortSignal): Promise<ResolvedArtifact> => {
    const matching = release.assets.filter((a) => isAsset(a.name));
    if (matching.length !== 1)
      return {
        skip: `expected exactly one asset matching "${settings.asset}", got ${matching.length}${matching.length > 0 ? ` (${matching.map((a) => a.name).join(', ')})` : ''}`,
      };
    const asset = matching[0]!;
    // A token-bearing source is a private repository: its browser URL needs a session, the API URL
    // (with Accept: application/octet-stream and the token) does not.
    const url = token === null ? asset.browser_download_url : asset.url;
    const sums = release.assets.filter(
      (a) => a.id !== asset.id && isChecksums(a.name) && !SIGNATURE.test(a.name),
    );
    if (sums.length === 0)
      return settings.requireChecksum
        ? { skip: `no checksums asset matches "${settings.checksums}" and require_checksum is set` }
        : { artifact: { url, checksum: null } };
    if (sums.length > 1)
      return {
        skip: `expected one checksums asset matching "${settings.checksums}", got ${sums.map((a) => a.name).join(', ')}`,
      };
    const sumsAsset = sums[0]!;
    if (sumsAsset.size > MAX_CHECKSUMS_BYTES)
      return { skip: `the checksums asset ${sumsAsset.name} is larger than ${MAX_CHECKSUMS_BYTES} bytes` };
    let text: string;
    try {
      text = await downloadChecksums(sumsAsset, signal);
    } catch (error) {
      // Not a skip: the download failed, the release is looked at again at the next poll.
      throw failure(error);
    }
    const found = checksumOf(text, asset.name, `the checksums asset ${sumsAsset.name}`);
    if ('problem' in found) return { skip: found.problem };
    return { artifact: { url, checksum: found.checksum } };
  };

  return {
    label,
    async poll(signal: AbortSignal): Promise<PollResult> {
      const cursor = await readCursor(opts.kv, app, 'github', identity);
      let response;
      try {
        response = await (
          await client()
        ).rest.repos.listReleases({
          owner,
          repo,
          per_page: PER_PAGE,
          headers: cursor.etag === null ? {} : { 'if-none-match': cursor.etag },
          request: { signal: AbortSignal.any([signal, AbortSignal.timeout(REQUEST_TIMEOUT_MS)]) },
        });
      } catch (error) {
        if (isRequestError(error) && error.status === 304) return { notBefore: null };
        throw failure(error);
      }
      const found: FoundRelease[] = [];
      for (const release of response.data) {
        if (release.draft && !settings.drafts) continue;
        if (release.prerelease && !settings.prereleases) continue;
        const version = versionOfTag(release.tag_name);
        if (!isValidVersion(version)) {
          logger.warn({ app, tag: release.tag_name, reason: versionProblem(version) }, 'release skipped');
          continue;
        }
        found.push({
          version,
          publishedAt: timeOf(release.published_at ?? release.created_at),
          changelog: changelogOf(release.body),
          resolve: () => resolve(release, signal),
        });
      }
      let next;
      try {
        next = await offerNew(offerContext, found, cursor);
      } catch (error) {
        // What was offered is kept; the validators are not, so the next poll reads the source again.
        if (error instanceof OfferInterrupted) await writeCursor(opts.kv, app, 'github', error.progress);
        throw error;
      }
      await writeCursor(opts.kv, app, 'github', { ...next, etag: response.headers.etag ?? null });
      const remaining = response.headers['x-ratelimit-remaining'];
      const spent = remaining !== undefined && Number(remaining) <= 0;
      return {
        notBefore: spent
          ? notBeforeOf(
              clock,
              { reset: response.headers['x-ratelimit-reset']?.toString() },
              settings.intervalMs,
            )
          : null,
      };
    },
  };
}
