import { readDaemonInfo, readToken } from '../api/discovery.js';
import type { ErrorResponse } from '../api/types.js';
import type { ErrorCode } from '../errors/catalog.js';
import { FerryError, messageOf } from '../errors/ferry-error.js';

export interface ClientOptions {
  readonly home: string;
  readonly url?: string;
  readonly token?: string;
}

/** The CLI's HTTP client for the daemon's API. Finds the local daemon and its token without flags. */
export class ApiClient {
  readonly url: string;
  private readonly token: string;
  /** The daemon's own certificate, trusted for its https URL. */
  private readonly certFile: string | undefined;
  private fetcher: Promise<typeof fetch> | undefined;

  constructor(opts: ClientOptions) {
    const info = readDaemonInfo(opts.home);
    const url = opts.url ?? process.env.FERRY_URL ?? info?.url;
    if (!url) {
      throw new FerryError(
        'FERRY_E_DAEMON_UNREACHABLE',
        `no Ferry daemon found for ${opts.home} (no daemon.json); start one with: ferry up`,
        { where: opts.home },
      );
    }
    const token = opts.token ?? process.env.FERRY_TOKEN ?? readToken(opts.home);
    if (!token) {
      throw new FerryError(
        'FERRY_E_UNAUTHORIZED',
        `no API token: expected ${opts.home}/api-token or FERRY_TOKEN`,
        { where: opts.home },
      );
    }
    this.url = url.replace(/\/$/, '');
    this.token = token;
    this.certFile =
      info?.certFile !== undefined && sameOrigin(this.url, info.url) ? info.certFile : undefined;
  }

  get<T>(path: string): Promise<T> {
    return this.request<T>('GET', path);
  }

  post<T>(path: string, body: unknown): Promise<T> {
    return this.request<T>('POST', path, body);
  }

  async request<T>(method: string, path: string, body?: unknown): Promise<T> {
    const response = await this.fetch(path, {
      method,
      headers: {
        authorization: `Bearer ${this.token}`,
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
      },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    const text = await response.text();
    const parsed: unknown = text ? JSON.parse(text) : {};
    if (!response.ok) throw fromErrorResponse(parsed, response.status);
    return parsed as T;
  }

  /** Opens a server-sent events stream and yields each message's data, parsed. */
  async *stream<T>(path: string, signal?: AbortSignal): AsyncGenerator<T> {
    const response = await this.fetch(path, {
      headers: { authorization: `Bearer ${this.token}`, accept: 'text/event-stream' },
      ...(signal ? { signal } : {}),
    });
    if (!response.ok || !response.body)
      throw fromErrorResponse(await response.json().catch(() => ({})), response.status);
    const decoder = new TextDecoder();
    let buffer = '';
    for await (const chunk of this.lostIsUnreachable(response.body, signal)) {
      buffer += decoder.decode(chunk as Uint8Array, { stream: true });
      let end: number;
      while ((end = buffer.indexOf('\n\n')) >= 0) {
        const message = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const data = message
          .split('\n')
          .filter((line) => line.startsWith('data: '))
          .map((line) => line.slice(6))
          .join('\n');
        if (data) yield JSON.parse(data) as T;
      }
    }
  }

  /** A stream cut by the daemon going away (kill -9, restart) is reported as unreachable. */
  private async *lostIsUnreachable(
    body: AsyncIterable<unknown>,
    signal?: AbortSignal,
  ): AsyncGenerator<unknown> {
    try {
      yield* body;
    } catch (error) {
      if (signal?.aborted) throw error;
      throw new FerryError(
        'FERRY_E_DAEMON_UNREACHABLE',
        `the connection to the daemon at ${this.url} was lost (${messageOf(error)})`,
        { where: this.url },
        { cause: error },
      );
    }
  }

  private async fetch(path: string, init: RequestInit): Promise<Response> {
    const fetcher = await this.fetcherFor();
    try {
      return await fetcher(`${this.url}${path}`, init);
    } catch (error) {
      if (init.signal?.aborted) throw error;
      throw new FerryError(
        'FERRY_E_DAEMON_UNREACHABLE',
        `no Ferry daemon answers at ${this.url} (${messageOf((error as { cause?: unknown }).cause ?? error)}); start one with: ferry up`,
        { where: this.url },
        { cause: error },
      );
    }
  }

  /** The global fetch, or one trusting the daemon's certificate (loaded only for https). */
  private fetcherFor(): Promise<typeof fetch> {
    if (this.certFile === undefined || !this.url.startsWith('https:')) return Promise.resolve(fetch);
    const certFile = this.certFile;
    this.fetcher ??= import('./trusted-fetch.js').then((m) => m.trustedFetch(certFile));
    return this.fetcher;
  }
}

function sameOrigin(a: string, b: string): boolean {
  try {
    return new URL(a).origin === new URL(b).origin;
  } catch {
    return false;
  }
}

function fromErrorResponse(body: unknown, status: number): FerryError {
  const error = (body as Partial<ErrorResponse>).error;
  if (error?.code?.startsWith('FERRY_E_'))
    return new FerryError(error.code as ErrorCode, error.message, error.details ?? {});
  return new FerryError('FERRY_E_INTERNAL', `the daemon answered HTTP ${status}`);
}
