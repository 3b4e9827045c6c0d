import type { IncomingMessage } from 'node:http';
import type { ErrorResponse } from '../api/types.js';
import { isErrorCode } from '../errors/catalog.js';
import { FerryError, isFerryError, messageOf } from '../errors/ferry-error.js';
import type { DaemonTarget } from './daemon-target.js';
import { send } from './http-transport.js';
import { UnknownCodeError } from '../errors/unknown-code-error.js';

/**
 * Codes whose message depends on which daemon answered (an app it does not know, a token it
 * refuses): their errors also say which daemon was asked and why that one.
 */
const DAEMON_SPECIFIC = new Set<string>([
  'FERRY_E_APP_UNKNOWN',
  'FERRY_E_ENV_UNKNOWN',
  'FERRY_E_DEPLOYMENT_UNKNOWN',
  'FERRY_E_UNAUTHORIZED',
  'FERRY_E_DAEMON_STARTING',
]);

/** The CLI's HTTP client for the daemon's API (see daemon-target.ts for which daemon). */
export class ApiClient {
  readonly url: string;
  private readonly token: string;
  private readonly certFile: string | undefined;

  constructor(private readonly target: DaemonTarget) {
    this.url = target.url;
    this.token = target.token;
    this.certFile = target.certFile;
  }

  /** "asked the daemon at URL (where that choice came from)", for error messages. */
  get asked(): string {
    return `asked the daemon at ${this.url} (${this.target.source})`;
  }

  get<T>(path: string): Promise<T> {
    return this.request<T>('GET', path);
  }

  post<T>(path: string, body: unknown): Promise<T> {
    return this.request<T>('POST', path, body);
  }

  async request<T>(method: string, path: string, body?: unknown): Promise<T> {
    const response = await this.send(
      method,
      path,
      {
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
      },
      body === undefined ? undefined : JSON.stringify(body),
    );
    const text = await this.lostIsUnreachable(readText(response));
    let parsed: unknown;
    try {
      parsed = text ? JSON.parse(text) : {};
    } catch {
      parsed = undefined;
    }
    if (!isOk(response)) throw this.fromErrorResponse(parsed, response.statusCode);
    if (parsed === undefined)
      throw new FerryError(
        'FERRY_E_INTERNAL',
        `the daemon answered something other than JSON\n  ${this.asked}`,
      );
    return parsed as T;
  }

  /** Opens a server-sent events stream and yields each message's data, parsed. */
  async *stream<T>(path: string, signal?: AbortSignal): AsyncGenerator<T> {
    for await (const message of this.messages<T>(path, { ...(signal ? { signal } : {}) })) yield message.data;
  }

  /**
   * Opens a server-sent events stream (after `lastEventId` when given, as EventSource resumes) and
   * yields each message: its `id:` if it has one, and its data, parsed. `onOpen` is called once the
   * daemon accepted the stream (from then on, nothing it publishes is missed).
   */
  async *messages<T>(
    path: string,
    opts: { signal?: AbortSignal; lastEventId?: string; onOpen?: () => void } = {},
  ): AsyncGenerator<{ id: string | undefined; data: T }> {
    const { signal, lastEventId } = opts;
    const response = await this.send(
      'GET',
      path,
      { accept: 'text/event-stream', ...(lastEventId !== undefined ? { 'last-event-id': lastEventId } : {}) },
      undefined,
      signal,
    );
    if (!isOk(response)) {
      const text = await this.lostIsUnreachable(readText(response));
      throw this.fromErrorResponse(parseOrNothing(text), response.statusCode);
    }
    opts.onOpen?.();
    const decoder = new TextDecoder();
    let buffer = '';
    try {
      for await (const chunk of response as AsyncIterable<Buffer>) {
        buffer += decoder.decode(chunk, { stream: true });
        let end: number;
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          const message = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          let id: string | undefined;
          const data: string[] = [];
          for (const line of message.split('\n')) {
            if (line.startsWith('id: ')) id = line.slice(4);
            else if (line.startsWith('data: ')) data.push(line.slice(6));
          }
          if (data.length > 0) yield { id, data: JSON.parse(data.join('\n')) as T };
        }
      }
    } catch (error) {
      if (signal?.aborted) throw error;
      throw this.lost(error);
    } finally {
      response.destroy();
    }
    // The daemon ended the stream without saying so (it stopped): as a lost connection.
    if (!response.complete) throw this.lost(new Error('the response ended early'));
  }

  /**
   * The flags a printed `ferry` command needs to ask this same daemon from the same directory
   * (-c, --home, --url as the user gave them), e.g. " -c deploy/ferry.yaml".
   */
  get flags(): string {
    return this.target.flags;
  }

  private async send(
    method: string,
    path: string,
    headers: Record<string, string>,
    body?: string,
    signal?: AbortSignal,
  ): Promise<IncomingMessage> {
    try {
      return await send(
        {
          method,
          url: `${this.url}${path}`,
          headers: { authorization: `Bearer ${this.token}`, ...headers },
          ...(body !== undefined ? { body } : {}),
          ...(signal ? { signal } : {}),
        },
        this.certFile,
      );
    } catch (error) {
      if (signal?.aborted || isFerryError(error)) throw error;
      throw new FerryError(
        'FERRY_E_DAEMON_UNREACHABLE',
        `no Ferry daemon answers (${messageOf(error)}); start one with: ${this.target.upCommand}\n  ${this.asked}`,
        { where: this.url },
        { cause: error },
      );
    }
  }

  /** A response cut by the daemon going away (kill -9, restart) is reported as unreachable. */
  private async lostIsUnreachable<R>(reading: Promise<R>): Promise<R> {
    try {
      return await reading;
    } catch (error) {
      throw this.lost(error);
    }
  }

  private lost(error: unknown): FerryError {
    return new FerryError(
      'FERRY_E_DAEMON_UNREACHABLE',
      `the connection to the daemon was lost (${messageOf(error)})\n  ${this.asked}`,
      { where: this.url },
      { cause: error },
    );
  }

  /** A FerryError for a code this CLI knows; the message and code as given for one it does not. */
  private fromErrorResponse(body: unknown, status: number | undefined): Error {
    const error = (body as Partial<ErrorResponse> | null)?.error;
    if (typeof error?.code !== 'string' || typeof error.message !== 'string')
      return new FerryError(
        'FERRY_E_INTERNAL',
        `the daemon answered HTTP ${status ?? '(no status)'}\n  ${this.asked}`,
      );
    const details = error.details ?? {};
    if (!isErrorCode(error.code)) return new UnknownCodeError(error.code, error.message, details);
    const message = DAEMON_SPECIFIC.has(error.code) ? `${error.message}\n  ${this.asked}` : error.message;
    return new FerryError(error.code, message, details);
  }
}

function isOk(response: IncomingMessage): boolean {
  const status = response.statusCode ?? 0;
  return status >= 200 && status < 300;
}

async function readText(response: IncomingMessage): Promise<string> {
  let text = '';
  response.setEncoding('utf8');
  for await (const chunk of response as AsyncIterable<string>) text += chunk;
  if (!response.complete) throw new Error('the response ended early');
  return text;
}

function parseOrNothing(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
