import type { FerryEvent } from '../api/types.js';
import type { NotificationConfig } from '../config/notifications.js';
import type { ConfigSource, FerryConfig } from '../config/types.js';
import type { Clock } from '../lib/clock.js';
import type { Logger } from '../lib/logger.js';
import { redactText, redactUrl, REDACTED, urlSecrets } from '../lib/redact.js';
import { NotificationMapper, type Notification } from './notification.js';
import { deliveryRequest, subjectOf } from './payload.js';
import { NotificationSender, type Post } from './sender.js';

export interface NotifierOptions {
  readonly events: { subscribe(listener: (event: FerryEvent) => void): () => void };
  /** Read at each notification: `ferry apply` may change the destinations. */
  readonly config: ConfigSource;
  readonly clock: Clock;
  readonly logger: Logger;
  /** The daemon's own secrets, hidden in whatever is logged. */
  readonly knownSecrets: readonly string[];
  readonly post?: Post;
  readonly random?: () => number;
}

/**
 * Sends deployment events to the configured destinations (docs/triggers.md#notifications). Its
 * listener on the event publisher only maps and queues: delivery happens in each destination's
 * own loop, so a slow or dead receiver never delays a deployment.
 */
export class Notifier {
  private readonly mapper = new NotificationMapper();
  private readonly senders = new Map<string, NotificationSender>();
  private readonly unsubscribe: () => void;
  private forConfig: FerryConfig | null = null;

  constructor(private readonly opts: NotifierOptions) {
    this.unsubscribe = opts.events.subscribe((event) => {
      try {
        this.onEvent(event);
      } catch (error) {
        // A notification is never worth more than the publisher's other subscribers (or the daemon).
        opts.logger.error({ err: error, event: event.id }, 'could not queue a notification');
      }
    });
  }

  /** Unsubscribes and stops every destination's deliveries (what is queued is dropped). */
  stop(): void {
    this.unsubscribe();
    for (const sender of this.senders.values()) sender.stop();
    this.senders.clear();
  }

  /** Each destination's sender, by its place in the configuration (for tests and metrics). */
  get destinations(): NotificationSender[] {
    return [...this.senders.values()];
  }

  private onEvent(event: FerryEvent): void {
    const notification = this.mapper.map(event);
    if (notification === null) return;
    const config = this.opts.config.current;
    if (config !== this.forConfig) this.reconfigure(config);
    config.notifications.forEach((destination, index) => {
      if (!wants(destination, notification)) return;
      const sender = this.senders.get(keyOf(destination, index));
      const request = deliveryRequest(destination.kind, notification, destination.secret?.reveal() ?? null);
      sender?.enqueue(request, `${notification.event} ${subjectOf(notification)}`);
    });
  }

  /** Keeps the senders of unchanged destinations (their queues in order); stops the others. */
  private reconfigure(config: FerryConfig): void {
    this.forConfig = config;
    const keep = new Map<string, NotificationSender>();
    config.notifications.forEach((destination, index) => {
      const key = keyOf(destination, index);
      keep.set(key, this.senders.get(key) ?? this.createSender(destination));
    });
    for (const [key, sender] of this.senders) if (!keep.has(key)) sender.stop();
    this.senders.clear();
    for (const [key, sender] of keep) this.senders.set(key, sender);
  }

  private createSender(destination: NotificationConfig): NotificationSender {
    const secrets = destinationSecrets(destination);
    const known = [...this.opts.knownSecrets, ...secrets];
    return new NotificationSender({
      url: destination.url,
      shown: shownDestination(destination),
      attempts: destination.attempts,
      queue: destination.queue,
      timeoutMs: destination.timeoutMs,
      clock: this.opts.clock,
      post: this.opts.post ?? httpPost,
      logger: this.opts.logger,
      redact: (text) => redactText(text, known),
      ...(this.opts.random ? { random: this.opts.random } : {}),
    });
  }
}

function wants(destination: NotificationConfig, n: Notification): boolean {
  return (
    destination.events.includes(n.event) && (destination.apps === null || destination.apps.includes(n.app))
  );
}

/** A destination is the same one across configurations while all of its settings are (its secret too). */
function keyOf(destination: NotificationConfig, index: number): string {
  return JSON.stringify([index, destination, destination.secret?.reveal() ?? null]);
}

/**
 * The destination as logs show it: the URL redacted (redactUrl), and its path hidden too, which
 * for a Slack webhook (and many others) is the credential.
 */
export function shownDestination(destination: NotificationConfig): string {
  const url = new URL(redactUrl(destination.url));
  return `${destination.kind} ${url.origin}${url.pathname === '/' ? '/' : `/${REDACTED}`}`;
}

/** What must never be logged of a destination: its URL's credentials and path, its secret. */
function destinationSecrets(destination: NotificationConfig): string[] {
  const secrets = urlSecrets(destination.url);
  const pathname = new URL(destination.url).pathname;
  if (pathname !== '/') secrets.push(pathname);
  if (destination.secret !== null) secrets.push(destination.secret.reveal());
  return secrets;
}

/** One POST over fetch (undici); the answer's body is not read. */
const httpPost: Post = async (url, request, signal) => {
  const response = await fetch(url, {
    method: 'POST',
    headers: request.headers,
    body: request.body,
    signal,
    redirect: 'manual',
  });
  await response.body?.cancel();
  return { status: response.status, retryAfter: response.headers.get('retry-after') };
};
