import { messageOf } from '../errors/ferry-error.js';
import { sleep, type Clock } from '../lib/clock.js';
import type { Logger } from '../lib/logger.js';
import { headersAt, type DeliveryRequest } from './payload.js';

/** What one POST answered: its status and Retry-After; a network error or timeout throws instead. */
export interface PostAnswer {
  readonly status: number;
  readonly retryAfter: string | null;
}

/** Sends one request; `signal` aborts it (the attempt's timeout, or the sender's stop). */
export type Post = (
  url: string,
  request: { readonly body: string; readonly headers: Readonly<Record<string, string>> },
  signal: AbortSignal,
) => Promise<PostAnswer>;

export interface SenderOptions {
  readonly url: string;
  /** The destination as logs may show it (its secrets hidden). */
  readonly shown: string;
  readonly attempts: number;
  readonly queue: number;
  readonly timeoutMs: number;
  readonly clock: Clock;
  readonly post: Post;
  readonly logger: Logger;
  /** Hides the destination's secrets in an error's text before it is logged. */
  readonly redact: (text: string) => string;
  /** 0 <= x < 1; Math.random in the daemon, fixed in tests. */
  readonly random?: () => number;
}

/** Waits between attempts: 1 s, 2 s, 4 s... capped, each jittered to 50-100 %. */
export const BACKOFF_BASE_MS = 1000;
export const BACKOFF_CAP_MS = 60_000;
/** A Retry-After longer than this is cut to it: a notification late by more is not worth the wait. */
export const RETRY_AFTER_CAP_MS = 300_000;

/** The wait before attempt `attempt + 1` after `attempt` failed (attempt counts from 1). */
export function backoffMs(attempt: number, random: () => number): number {
  const full = Math.min(BACKOFF_CAP_MS, BACKOFF_BASE_MS * 2 ** (attempt - 1));
  return Math.round(full * (0.5 + random() * 0.5));
}

/** Retry-After as a wait in ms (delta-seconds or an HTTP date); null when absent or unreadable. */
export function retryAfterMs(value: string | null, nowMs: number): number | null {
  if (value === null) return null;
  const trimmed = value.trim();
  const ms = /^\d+$/.test(trimmed) ? Number(trimmed) * 1000 : Date.parse(trimmed) - nowMs;
  if (!Number.isFinite(ms)) return null;
  return Math.min(RETRY_AFTER_CAP_MS, Math.max(0, ms));
}

interface Queued {
  readonly request: DeliveryRequest;
  readonly what: string;
}

/**
 * One destination's deliveries: a bounded queue (the oldest waiting is dropped, and counted, when
 * it is full) sent in order by one loop, each retried with backoff on network errors, timeouts, 5xx and
 * 429 (Retry-After honoured) until its attempts run out. `enqueue` never waits: a slow or dead
 * destination delays only its own notifications.
 */
export class NotificationSender {
  private readonly queue: Queued[] = [];
  private running = false;
  /** A notification is being sent (outside the queue, which holds the waiting ones). */
  private sending = false;
  private readonly stopping = new AbortController();
  private readonly random: () => number;
  /** Counters, for logs and tests. */
  delivered = 0;
  failed = 0;
  dropped = 0;

  constructor(private readonly opts: SenderOptions) {
    this.random = opts.random ?? Math.random;
  }

  /** Queues a request; returns at once. */
  enqueue(request: DeliveryRequest, what: string): void {
    if (this.stopping.signal.aborted) return;
    this.queue.push({ request, what });
    if (this.queue.length > this.opts.queue) {
      const dropped = this.queue.shift();
      this.dropped += 1;
      this.opts.logger.warn(
        { destination: this.opts.shown, dropped: this.dropped, notification: dropped?.what },
        'notification dropped: the destination is behind and its queue is full',
      );
    }
    if (!this.running) {
      this.running = true;
      void this.drain();
    }
  }

  /** Notifications not yet delivered nor given up: the waiting ones and the one being sent. */
  get pending(): number {
    return this.queue.length + (this.sending ? 1 : 0);
  }

  /** Stops sending: the attempt under way is aborted, what is queued is dropped. */
  stop(): void {
    this.stopping.abort(new Error('the notifier stopped'));
    this.queue.length = 0;
  }

  private async drain(): Promise<void> {
    try {
      for (let next = this.queue.shift(); next !== undefined; next = this.queue.shift()) {
        this.sending = true;
        await this.deliver(next);
        this.sending = false;
        if (this.stopping.signal.aborted) return;
      }
    } finally {
      this.running = false;
      this.sending = false;
    }
  }

  private async deliver(item: Queued): Promise<void> {
    const { attempts, logger, shown, clock } = this.opts;
    for (let attempt = 1; ; attempt += 1) {
      const { outcome, detail, waitMs } = await this.attempt(item.request);
      if (this.stopping.signal.aborted) return;
      if (outcome === 'delivered') {
        this.delivered += 1;
        return;
      }
      if (outcome === 'refused' || attempt >= attempts) {
        this.failed += 1;
        logger.warn(
          { destination: shown, notification: item.what, attempts: attempt, reason: detail },
          'notification not delivered: giving it up',
        );
        return;
      }
      const wait = waitMs ?? backoffMs(attempt, this.random);
      logger.debug(
        { destination: shown, notification: item.what, attempt, reason: detail, waitMs: wait },
        'notification delivery failed; retrying',
      );
      try {
        await sleep(clock, wait, this.stopping.signal);
      } catch {
        return;
      }
    }
  }

  private async attempt(
    request: DeliveryRequest,
  ): Promise<{ outcome: 'delivered' | 'retry' | 'refused'; detail: string; waitMs: number | null }> {
    const { clock, post, url, timeoutMs } = this.opts;
    const controller = new AbortController();
    const onStop = () => controller.abort(this.stopping.signal.reason);
    this.stopping.signal.addEventListener('abort', onStop, { once: true });
    const timer = clock.setTimeout(
      () => controller.abort(new Error(`no answer within ${timeoutMs} ms`)),
      timeoutMs,
    );
    try {
      const headers = headersAt(request, clock.now());
      const answer = await post(url, { body: request.body, headers }, controller.signal);
      if (answer.status >= 200 && answer.status < 300)
        return { outcome: 'delivered', detail: '', waitMs: null };
      const detail = `HTTP ${answer.status}`;
      if (answer.status === 429 || answer.status === 408 || answer.status >= 500)
        return { outcome: 'retry', detail, waitMs: retryAfterMs(answer.retryAfter, clock.now()) };
      // Another 4xx will not change by asking again (a wrong URL, a rejected signature).
      return { outcome: 'refused', detail, waitMs: null };
    } catch (error) {
      const reason: unknown = controller.signal.aborted ? controller.signal.reason : error;
      return { outcome: 'retry', detail: this.opts.redact(describeError(reason)), waitMs: null };
    } finally {
      clock.clearTimeout(timer);
      this.stopping.signal.removeEventListener('abort', onStop);
    }
  }
}

/** fetch's "fetch failed" says little: its cause (ECONNREFUSED...) says what happened. */
function describeError(error: unknown): string {
  const cause = error instanceof Error ? (error as Error & { cause?: unknown }).cause : undefined;
  return cause === undefined ? messageOf(error) : `${messageOf(error)}: ${messageOf(cause)}`;
}
