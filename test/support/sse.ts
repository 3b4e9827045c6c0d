import http from 'node:http';
import { waitFor } from './wait.js';

/** One server-sent event as received: its `id:` (if any) and its `data:` parsed as JSON. */
export interface ReceivedEvent<T> {
  readonly id: string | undefined;
  readonly data: T;
}

export interface SseConnection<T> {
  readonly status: number;
  readonly headers: http.IncomingHttpHeaders;
  /** Every event so far, in the order received. */
  readonly events: ReceivedEvent<T>[];
  /** Resolves when the server ends the stream. */
  readonly ended: Promise<void>;
  /** Waits until `count` events arrived (60 s at most). */
  waitForCount(count: number, what?: string): Promise<ReceivedEvent<T>[]>;
  /** Waits until an event satisfies `match`; returns it. */
  waitForEvent(what: string, match: (event: ReceivedEvent<T>) => boolean): Promise<ReceivedEvent<T>>;
  close(): void;
}

/**
 * Opens a server-sent events stream with Node's HTTP client (as EventSource would, Last-Event-ID
 * included when given). A status other than 200 resolves with the body in `error`.
 */
export function openSse<T>(
  url: string,
  headers: Record<string, string> = {},
): Promise<SseConnection<T> | { status: number; error: unknown }> {
  return new Promise((resolve, reject) => {
    const request = http.get(url, { headers: { accept: 'text/event-stream', ...headers } }, (response) => {
      const status = response.statusCode ?? 0;
      if (status !== 200) {
        let body = '';
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => (body += chunk));
        response.on('end', () => resolve({ status, error: JSON.parse(body) as unknown }));
        return;
      }
      const events: ReceivedEvent<T>[] = [];
      let buffer = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => {
        buffer += chunk;
        let end: number;
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          let id: string | undefined;
          const data: string[] = [];
          for (const line of block.split('\n')) {
            if (line.startsWith('id: ')) id = line.slice(4);
            else if (line.startsWith('data: ')) data.push(line.slice(6));
          }
          if (data.length > 0) events.push({ id, data: JSON.parse(data.join('\n')) as T });
        }
      });
      const ended = new Promise<void>((done) => response.once('close', () => done()));
      resolve({
        status,
        headers: response.headers,
        events,
        ended,
        waitForCount: (count, what = `${count} events`) =>
          waitFor(what, () => (events.length >= count ? events.slice(0, count) : null), 60_000),
        waitForEvent: (what, match) => waitFor(what, () => events.find(match), 60_000),
        close: () => request.destroy(),
      });
    });
    request.on('error', reject);
  });
}
