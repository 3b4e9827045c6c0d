import type { IncomingMessage, ServerResponse } from 'node:http';
import { performance } from 'node:perf_hooks';
import type { Dispatcher } from 'undici';
import type { Backend } from './backend.js';
import { relayResponseHeaders, upstreamRequestHeaders } from './headers.js';
import { peerOf } from './peer.js';
import type { RequestOutcomeCounter } from './request-outcomes.js';
import type { BackendWaiter, Route } from './route.js';
import type { RouteSettings } from './route-settings.js';
import { classifyUpstreamError } from './upstream-failure.js';

const MAX_RESET_RETRIES = 2;

/**
 * Methods whose request may be sent twice with the effect of once (RFC 9110 9.2.2): only these are
 * replayed on another backend after one may have received them. POST and PATCH never are.
 */
const IDEMPOTENT_METHODS = new Set(['GET', 'HEAD', 'OPTIONS', 'TRACE', 'PUT', 'DELETE']);

/** Proxies one HTTP request through the route: choose, hold, retry, stream back. */
export function forwardRequest(route: Route, req: IncomingMessage, res: ServerResponse): void {
  new ForwardedRequest(route, req, res).start();
}

class ForwardedRequest implements BackendWaiter {
  /** When the request arrived (performance.now()), for the latency of its response. */
  readonly arrivedAt = performance.now();
  readonly deadline: number;
  excluded: Set<Backend> | undefined;
  holdRetries = 0;
  holdTimer: NodeJS.Timeout | undefined;
  /** Taken once per request: a route change applies to the next request, not halfway through one. */
  readonly settings: RouteSettings;
  /** Null when the request cannot be forwarded (several Host headers). */
  readonly headers: string[] | null;
  /** A request body is streamed once, so it can only go to another backend if it was never sent. */
  readonly hasBody: boolean;
  /** May go to another backend after one may have received it: idempotent and without a body. */
  readonly replayable: boolean;
  clientGone = false;
  resetRetries = 0;
  private attempt: UpstreamAttempt | undefined;
  private counted = false;

  constructor(
    readonly route: Route,
    readonly req: IncomingMessage,
    readonly res: ServerResponse,
  ) {
    this.settings = route.settings;
    this.deadline = Date.now() + this.settings.holdTimeoutMs;
    this.headers = upstreamRequestHeaders(req, peerOf(req.socket), false);
    const length = req.headers['content-length'];
    this.hasBody = req.headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0');
    this.replayable = !this.hasBody && IDEMPOTENT_METHODS.has(req.method ?? '');
  }

  start(): void {
    if (this.headers === null) {
      this.res.shouldKeepAlive = false;
      this.count((outcomes) => outcomes.refused());
      this.reply(400, 'the request has more than one Host header');
      return;
    }
    this.res.once('close', () => {
      if (this.res.writableFinished) return;
      this.clientGone = true;
      this.count((outcomes) => outcomes.gone());
      this.route.release(this);
      this.attempt?.abort();
    });
    this.route.acquire(this);
  }

  grant(backend: Backend): void {
    if (this.clientGone) return;
    this.attempt = new UpstreamAttempt(this, backend);
    this.attempt.dispatch();
  }

  expire(): void {
    this.count((outcomes) => outcomes.expired());
    this.reply(503, `no usable backend for route ${this.route.name} within ${this.settings.holdTimeoutMs}ms`);
  }

  /** The attempt failed before any response byte reached the client: try elsewhere or answer. */
  failed(backend: Backend, retry: boolean, status: number, message: string): void {
    if (this.clientGone) return;
    if (retry) {
      (this.excluded ??= new Set()).add(backend);
      this.route.acquire(this);
      return;
    }
    this.reply(status, message);
  }

  /** Records how the request ended in the route's outcomes; only the first call counts. */
  count(record: (outcomes: RequestOutcomeCounter) => void): void {
    if (this.counted) return;
    this.counted = true;
    record(this.route.outcomes);
  }

  reply(status: number, message: string): void {
    const res = this.res;
    if (this.clientGone || res.writableEnded) return;
    if (res.headersSent) {
      res.destroy();
      return;
    }
    const body = `ferry router: ${message}\n`;
    res.writeHead(status, {
      'content-type': 'text/plain; charset=utf-8',
      'content-length': Buffer.byteLength(body),
      'cache-control': 'no-store',
    });
    res.end(body);
  }
}

/**
 * One try of a request on one backend. It implements undici's original dispatch handler methods
 * (onConnect/onHeaders/onData/onComplete/onError) rather than the newer controller-based ones: those
 * are adapted onto these by a wrapper that also parses every response's headers into an object; the
 * raw header list relayed as is measured ~10% more requests/s through the router.
 */
class UpstreamAttempt implements Dispatcher.DispatchHandler {
  private abortUpstream: ((error?: Error) => void) | undefined;
  private resumeUpstream: (() => void) | undefined;
  private sent = false;
  private responded = false;
  /** Whether body bytes were relayed (they carry the headers with them). */
  private bodyStarted = false;
  /** The final status the backend answered (relayed to the client). */
  private status = 0;
  private settled = false;
  private aborted = false;

  constructor(
    private readonly request: ForwardedRequest,
    private readonly backend: Backend,
  ) {}

  dispatch(): void {
    const { req, headers, hasBody, settings } = this.request;
    this.backend.begin();
    try {
      this.backend.dispatcher(settings.connectTimeoutMs).dispatch(
        {
          method: req.method ?? 'GET',
          path: req.url ?? '/',
          headers: headers!,
          body: hasBody ? req : null,
          headersTimeout: settings.responseTimeoutMs,
          bodyTimeout: settings.idleTimeoutMs,
        },
        this,
      );
    } catch (error) {
      this.onError(error as Error);
    }
  }

  /** The client went away: stop the upstream request (its body would be wasted). */
  abort(): void {
    if (this.settled) return;
    this.aborted = true;
    this.abortUpstream?.(new Error('client closed the connection'));
  }

  onConnect(abort: (error?: Error) => void): void {
    this.abortUpstream = abort;
    this.sent = true;
    if (this.request.clientGone) this.abort();
  }

  onHeaders(statusCode: number, rawHeaders: Buffer[], resume: () => void, statusText: string): boolean {
    this.responded = true;
    // Informational responses (103 Early Hints) are not relayed; the final response follows.
    if (statusCode < 200) return true;
    this.status = statusCode;
    this.backend.recordResponse(statusCode, Date.now());
    const res = this.request.res;
    if (this.request.clientGone) return true;
    try {
      res.writeHead(statusCode, statusText, relayResponseHeaders(rawHeaders));
    } catch {
      // A header Node refuses to write (invalid characters): the response cannot be relayed.
      this.abortUpstream?.(new Error('invalid response header'));
      return false;
    }
    this.resumeUpstream = resume;
    // Headers go out with the first body bytes, in one packet, when those are already here (they
    // usually are). A backend that sends its headers and then waits (an event stream, a long poll)
    // would hold the client without them: send them once the bytes that came with them are relayed.
    setImmediate(() => {
      if (!this.bodyStarted && !res.writableEnded && !this.request.clientGone) res.flushHeaders();
    });
    return true;
  }

  onData(chunk: Buffer): boolean {
    this.bodyStarted = true;
    // Backpressure: a slow client pauses the upstream read instead of buffering the whole body.
    const res = this.request.res;
    if (res.write(chunk) || this.resumeUpstream === undefined) return true;
    res.once('drain', this.resumeUpstream);
    return false;
  }

  onComplete(): void {
    this.backend.recordDuration((performance.now() - this.request.arrivedAt) / 1000);
    this.settle();
    this.request.count((outcomes) => outcomes.answered(this.backend.release, this.status));
    this.request.res.end();
  }

  onError(error: Error): void {
    this.settle();
    const request = this.request;
    if (this.aborted || request.clientGone || request.req.errored) return;
    const kind = classifyUpstreamError(error, this.sent);
    if (kind === 'bad-request') {
      request.count((outcomes) => outcomes.refused());
      request.failed(this.backend, false, 400, `the request cannot be forwarded: ${error.message}`);
      return;
    }
    this.backend.recordFailure(kind, Date.now());
    const release = this.backend.release;
    if (this.responded) {
      request.count((outcomes) => outcomes.failed(release, kind === 'timeout' ? 'timeout' : 'reset'));
      request.res.destroy();
      return;
    }
    // Not sent: always safe. Sent and reset before any response byte (a keep-alive socket the backend
    // closed as the request went out is the usual cause): the backend may have acted on it, so only an
    // idempotent request without a body is sent again. Bounded, so a request that crashes every
    // instance it reaches cannot take them all down in turn.
    const retry =
      kind === 'connect' ||
      (kind === 'reset' && request.replayable && request.resetRetries++ < MAX_RESET_RETRIES);
    const status = kind === 'timeout' ? 504 : 502;
    if (!retry)
      request.count((outcomes) => outcomes.failed(release, kind === 'timeout' ? 'timeout' : 'reset'));
    request.failed(this.backend, retry, status, `backend ${this.backend.id} failed: ${error.message}`);
  }

  private settle(): void {
    if (this.settled) return;
    this.settled = true;
    this.backend.finish();
  }
}
