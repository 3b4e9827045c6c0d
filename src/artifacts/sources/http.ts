import type { Readable } from 'node:stream';
import { messageOf } from '../../errors/ferry-error.js';
import type { FetchedBody, FetchRequest } from './source.js';
import { sourceError } from './source.js';

const MAX_REDIRECTS = 5;
const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);

/**
 * Fetches an http(s):// artifact with undici. Redirects are followed by hand (bounded, http(s) only)
 * so that configured headers and URL credentials never travel to another origin.
 */
export async function openHttp(fetch: FetchRequest): Promise<FetchedBody> {
  let url = new URL(fetch.url);
  let headers = moveUserinfoToHeader(url, fetch.headers);
  const offset = fetch.offset ?? 0;
  if (offset > 0) headers.range = `bytes=${offset}-`;
  for (let redirects = 0; ; redirects++) {
    let response;
    try {
      // Loaded on first use: undici weighs ~20 MB of the daemon's memory, and most hosts fetch from disk.
      const { request } = await import('undici');
      response = await request(url, { method: 'GET', headers, signal: fetch.signal });
    } catch (error) {
      if (fetch.signal.aborted) throw error;
      throw sourceError(
        `GET ${fetch.label}: ${messageOf(error)}`,
        { where: fetch.label, retryable: true },
        error,
      );
    }
    const { statusCode, statusText } = response;
    if (REDIRECT_STATUSES.has(statusCode)) {
      await discard(response.body);
      const next = redirectTarget(fetch.label, statusCode, response.headers.location, url, redirects);
      if (next.origin !== url.origin) headers = offset > 0 ? { range: `bytes=${offset}-` } : {};
      url = next;
      continue;
    }
    if (offset > 0) return resumed(fetch, offset, response);
    if (statusCode !== 200) {
      await discard(response.body);
      // 4xx (401, 403, 404, 410...) will not change by asking again, except "too many requests"
      // and "request timeout"; 5xx are the server's trouble of the moment.
      const retryable = statusCode >= 500 || statusCode === 408 || statusCode === 429;
      const got = `${statusCode}${statusText ? ` ${statusText}` : ''}`;
      throw sourceError(`GET ${fetch.label}: expected HTTP 200, got ${got}`, {
        where: fetch.label,
        expected: '200',
        got,
        status: statusCode,
        retryable,
        missing: statusCode === 404 || statusCode === 410,
      });
    }
    const length = Number(firstValue(response.headers['content-length']));
    const total = Number.isSafeInteger(length) && length >= 0 ? length : null;
    const resumable = firstValue(response.headers['accept-ranges'])?.trim().toLowerCase() === 'bytes';
    return { chunks: guardBody(response.body, fetch, total), total, resumable };
  }
}

type UndiciResponse = Awaited<ReturnType<typeof import('undici').request>>;

/**
 * The answer to a Range request must be 206 with a Content-Range starting at exactly our offset:
 * anything else (a 200 with the whole body, another range) would corrupt the hash, so it fails
 * retryably and the pipeline restarts the attempt from byte 0.
 */
async function resumed(fetch: FetchRequest, offset: number, response: UndiciResponse): Promise<FetchedBody> {
  const range = firstValue(response.headers['content-range']) ?? '';
  const match = /^bytes (\d+)-(\d+)\/(\d+|\*)$/.exec(range.trim());
  if (response.statusCode !== 206 || match === null || Number(match[1]) !== offset) {
    await discard(response.body);
    const got = `${response.statusCode}${range === '' ? '' : ` ${range}`}`;
    throw sourceError(
      `GET ${fetch.label}: resuming at byte ${offset}: expected HTTP 206 bytes ${offset}-, got ${got}`,
      {
        where: fetch.label,
        expected: `206 bytes ${offset}-`,
        got,
        retryable: true,
      },
    );
  }
  const bodyLength = Number(match[2]) - offset + 1;
  const total = match[3] === '*' ? null : Number(match[3]);
  return { chunks: guardBody(response.body, fetch, bodyLength), total, resumable: true };
}

/** Turns transport failures mid-body into retryable source errors, and short bodies into errors. */
async function* guardBody(body: Readable, fetch: FetchRequest, total: number | null): AsyncGenerator<Buffer> {
  let received = 0;
  try {
    for await (const chunk of body as AsyncIterable<Buffer>) {
      received += chunk.length;
      yield chunk;
    }
  } catch (error) {
    if (fetch.signal.aborted) throw error;
    const of = total === null ? '' : ` of ${total}`;
    throw sourceError(
      `GET ${fetch.label}: connection failed after ${received}${of} bytes: ${messageOf(error)}`,
      { where: fetch.label, retryable: true, received },
      error,
    );
  }
  if (total !== null && received !== total) {
    throw sourceError(`GET ${fetch.label}: expected ${total} bytes, got ${received} before the body ended`, {
      where: fetch.label,
      retryable: true,
      received,
    });
  }
}

function redirectTarget(
  label: string,
  status: number,
  location: string | string[] | undefined,
  from: URL,
  redirects: number,
): URL {
  const value = firstValue(location);
  if (redirects >= MAX_REDIRECTS) {
    throw sourceError(`GET ${label}: expected at most ${MAX_REDIRECTS} redirects, got more`, {
      where: label,
      retryable: false,
    });
  }
  let next: URL | undefined;
  try {
    next = value === undefined ? undefined : new URL(value, from);
  } catch {
    next = undefined;
  }
  if (next === undefined || (next.protocol !== 'http:' && next.protocol !== 'https:')) {
    throw sourceError(`GET ${label}: HTTP ${status} expected a Location to an http(s) URL, got none usable`, {
      where: label,
      retryable: false,
    });
  }
  return next;
}

/** URL userinfo becomes a Basic Authorization header (unless one is given), and leaves the URL. */
function moveUserinfoToHeader(url: URL, headers: Record<string, string>): Record<string, string> {
  const result = { ...headers };
  if (url.username === '' && url.password === '') return result;
  const hasAuthorization = Object.keys(result).some((name) => name.toLowerCase() === 'authorization');
  if (!hasAuthorization) {
    const credentials = `${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}`;
    result.authorization = `Basic ${Buffer.from(credentials).toString('base64')}`;
  }
  url.username = '';
  url.password = '';
  return result;
}

async function discard(body: Readable & { dump?: () => Promise<void> }): Promise<void> {
  try {
    await body.dump?.();
  } catch {
    // The body of an answer we reject is of no interest; a failure to drain it neither.
  }
  body.destroy();
}

function firstValue(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}
