import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { Readable } from 'node:stream';
import { messageOf } from '../../errors/ferry-error.js';
import type { FetchedBody, FetchRequest } from './source.js';
import { sourceError } from './source.js';

const MAX_REDIRECTS = 5;
const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);
/**
 * A connection that brings no byte for this long, waiting for the answer or within its body, is
 * taken for dead (a retryable failure; the download resumes or starts again).
 */
const IDLE_TIMEOUT_MS = 300_000;

/**
 * Fetches an http(s):// artifact with Node's HTTP client (no HTTP library of Ferry's own: undici and
 * the WebAssembly parser it compiles held some 17 MB of an agent's memory; bench/agent-idle.mjs).
 * Redirects are followed by hand (bounded, http(s) only) so that configured headers and URL
 * credentials never travel to another origin.
 */
export async function openHttp(fetch: FetchRequest): Promise<FetchedBody> {
  let url = new URL(fetch.url);
  let headers = moveUserinfoToHeader(url, fetch.headers);
  const offset = fetch.offset ?? 0;
  if (offset > 0) headers.range = `bytes=${offset}-`;
  for (let redirects = 0; ; redirects++) {
    let response: IncomingMessage;
    try {
      response = await get(url, headers, fetch.signal);
    } catch (error) {
      if (fetch.signal.aborted) throw error;
      throw sourceError(
        `GET ${fetch.label}: ${messageOf(error)}`,
        { where: fetch.label, retryable: true },
        error,
      );
    }
    const statusCode = response.statusCode ?? 0;
    const statusText = response.statusMessage;
    if (REDIRECT_STATUSES.has(statusCode)) {
      discard(response);
      const next = redirectTarget(fetch.label, statusCode, response.headers.location, url, redirects);
      if (next.origin !== url.origin) headers = offset > 0 ? { range: `bytes=${offset}-` } : {};
      url = next;
      continue;
    }
    if (offset > 0) return resumed(fetch, offset, response);
    if (statusCode !== 200) {
      discard(response);
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
    return { chunks: guardBody(response, fetch, total), total, resumable };
  }
}

/** A GET, resolved with the answer once its headers are in; its body is read by the caller. */
function get(url: URL, headers: Record<string, string>, signal: AbortSignal): Promise<IncomingMessage> {
  const request = url.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'GET', headers, signal }, resolve);
    req.setTimeout(IDLE_TIMEOUT_MS, () =>
      req.destroy(new Error(`no data from the server for ${IDLE_TIMEOUT_MS / 1000} s`)),
    );
    req.once('error', reject);
    req.end();
  });
}

/**
 * The answer to a Range request must be 206 with a Content-Range starting at exactly our offset:
 * anything else (a 200 with the whole body, another range) would corrupt the hash, so it fails
 * retryably and the pipeline restarts the attempt from byte 0.
 */
function resumed(fetch: FetchRequest, offset: number, response: IncomingMessage): FetchedBody {
  const range = firstValue(response.headers['content-range']) ?? '';
  const match = /^bytes (\d+)-(\d+)\/(\d+|\*)$/.exec(range.trim());
  if (response.statusCode !== 206 || match === null || Number(match[1]) !== offset) {
    discard(response);
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
  return { chunks: guardBody(response, fetch, bodyLength), total, resumable: true };
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

/** An answer we do not read: its connection is closed rather than drained. */
function discard(response: IncomingMessage): void {
  response.destroy();
}

function firstValue(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}
