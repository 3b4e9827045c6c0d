import type { HttpSourceConfig } from '../../config/source-settings.js';
import { messageOf } from '../../errors/ferry-error.js';
import type { Clock } from '../../lib/clock.js';
import type { Logger } from '../../lib/logger.js';
import { redactText, redactUrl } from '../../lib/redact.js';
import { isValidVersion, versionProblem } from '../../lib/release-version.js';
import type { ReleaseIntake } from '../../releases/release.js';
import type { KvStore } from '../../store/kv/kv.js';
import { readCursor, writeCursor } from '../cursor.js';
import { changelogOf, timeOf, type FoundRelease } from '../found-release.js';
import { OfferInterrupted, offerNew } from '../offer-new.js';
import { RateLimited, notBeforeOf, type PollResult, type ReleaseSource } from '../source.js';
import { MAX_DOCUMENT_BYTES, parseReleaseDocument } from './release-document.js';

/** One request's deadline: a source that hangs must not hold its next poll. */
const REQUEST_TIMEOUT_MS = 30_000;

export interface HttpSourceOptions {
  readonly app: string;
  readonly settings: HttpSourceConfig;
  readonly kv: KvStore;
  readonly intake: ReleaseIntake;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly fetch?: typeof globalThis.fetch;
}

/**
 * Watches a JSON release document (an index of releases or the latest one) over HTTP, with
 * If-None-Match / If-Modified-Since from the kept validators: a 304 means nothing is new.
 */
export function httpSource(opts: HttpSourceOptions): ReleaseSource {
  const { app, settings, clock, logger } = opts;
  const fetchImpl = opts.fetch ?? globalThis.fetch;
  const shownUrl = redactUrl(settings.url);
  // Header values (an API key, a bearer token) are hidden from every message.
  const secrets = [...settings.headers.values()];
  const label = `http:${shownUrl}`;
  const offerContext = {
    app,
    env: settings.env,
    trigger: { kind: 'watcher', actor: `watcher:http:${app}` } as const,
    intake: opts.intake,
    logger,
  };

  return {
    label,
    async poll(signal: AbortSignal): Promise<PollResult> {
      const cursor = await readCursor(opts.kv, app, 'http', `${settings.format} ${settings.url}`);
      const headers = new Headers({ accept: 'application/json' });
      for (const [name, value] of settings.headers) headers.set(name, value);
      if (cursor.etag !== null) headers.set('if-none-match', cursor.etag);
      if (cursor.lastModified !== null) headers.set('if-modified-since', cursor.lastModified);
      let response: Response;
      let text: string;
      try {
        response = await fetchImpl(settings.url, {
          headers,
          signal: AbortSignal.any([signal, AbortSignal.timeout(REQUEST_TIMEOUT_MS)]),
        });
        if (response.status === 304) {
          await response.body?.cancel();
          return { notBefore: null };
        }
        if (response.status === 429 || (response.status === 503 && response.headers.has('retry-after'))) {
          await response.body?.cancel();
          throw new RateLimited(
            `${shownUrl} answered ${response.status}`,
            notBeforeOf(clock, { retryAfter: response.headers.get('retry-after') }, settings.intervalMs),
          );
        }
        if (!response.ok) {
          await response.body?.cancel();
          throw new Error(`${shownUrl} answered ${response.status}`);
        }
        text = await readLimited(response);
      } catch (error) {
        if (error instanceof RateLimited) throw error;
        throw new Error(
          redactText(`release document ${shownUrl} could not be read: ${messageOf(error)}`, secrets),
        );
      }
      const next = {
        etag: response.headers.get('etag'),
        lastModified: response.headers.get('last-modified'),
      };
      const parsed = parseReleaseDocument(settings.format, text);
      if ('problem' in parsed) {
        // Kept with its validators: the same bad document is not read again until it changes.
        logger.warn(
          { app, source: label, reason: redactText(parsed.problem, secrets) },
          'release document refused',
        );
        await writeCursor(opts.kv, app, 'http', { ...cursor, ...next });
        return { notBefore: null };
      }
      const found: FoundRelease[] = [];
      for (const entry of parsed.releases) {
        if (!isValidVersion(entry.version)) {
          logger.warn({ app, source: label, reason: versionProblem(entry.version) }, 'release skipped');
          continue;
        }
        let url: string;
        try {
          url = new URL(entry.url, settings.url).href;
        } catch {
          logger.warn({ app, version: entry.version, reason: 'its url is not a URL' }, 'release skipped');
          continue;
        }
        found.push({
          version: entry.version,
          publishedAt: timeOf(entry.published_at),
          changelog: changelogOf(entry.changelog),
          resolve: () => Promise.resolve({ artifact: { url, checksum: entry.checksum ?? null } }),
        });
      }
      let offered;
      try {
        offered = await offerNew(offerContext, found, cursor);
      } catch (error) {
        // What was offered is kept; the validators are not, so the next poll reads the source again.
        if (error instanceof OfferInterrupted) await writeCursor(opts.kv, app, 'http', error.progress);
        throw error;
      }
      await writeCursor(opts.kv, app, 'http', { ...offered, ...next });
      return { notBefore: null };
    },
  };
}

async function readLimited(response: Response): Promise<string> {
  const declared = Number(response.headers.get('content-length') ?? NaN);
  if (declared > MAX_DOCUMENT_BYTES) {
    await response.body?.cancel();
    throw new Error(`the document is larger than ${MAX_DOCUMENT_BYTES} bytes`);
  }
  const chunks: Buffer[] = [];
  let size = 0;
  if (response.body === null) return '';
  for await (const chunk of response.body as AsyncIterable<Uint8Array>) {
    size += chunk.length;
    if (size > MAX_DOCUMENT_BYTES) throw new Error(`the document is larger than ${MAX_DOCUMENT_BYTES} bytes`);
    chunks.push(Buffer.from(chunk));
  }
  return Buffer.concat(chunks).toString('utf8');
}
