import type { Command } from 'commander';
import type { EventStreamMessage, StatusResponse } from '../../api/types.js';
import type { ApiClient } from '../client.js';
import { clientOf, envQuery } from '../context.js';
import { onInterrupt } from '../interrupt.js';
import { printJson, printJsonLine } from '../json-output.js';
import { isDaemonRestarting, Reconnector } from '../reconnect.js';
import { renderStatus } from '../render.js';

export interface StatusOptions {
  env?: string;
  json?: boolean;
  watch?: boolean;
}

/** ferry status [APP]: what runs, from the daemon's status; with --watch, again at each change. */
export async function status(app: string | undefined, opts: StatusOptions, command: Command): Promise<void> {
  const params = [app ? `app=${encodeURIComponent(app)}` : '', envQuery(opts.env)].filter(Boolean).join('&');
  const query = params ? `?${params}` : '';
  const client = await clientOf(command);
  if (opts.watch) return watch(client, query, opts.json === true);
  const response = await client.get<StatusResponse>(`/v1/status${query}`);
  if (opts.json) printJson(response);
  else process.stdout.write(`${renderStatus(response)}\n`);
}

/**
 * Shows the status, then again whenever the daemon publishes something about it (GET /v1/events,
 * with the same app and env filter): driven by the event stream, never by polling. A burst of
 * events (a deployment's steps) is one read of the status, and a status unchanged is not shown
 * again. A lost stream (the daemon restarted) reconnects with Last-Event-ID and reads the status
 * anew, as it does on a gap. Ctrl-C ends it (exit 0).
 */
async function watch(client: ApiClient, query: string, json: boolean): Promise<void> {
  const out = process.stdout;
  const terminal = out.isTTY === true && !json;
  const interrupt = onInterrupt();
  const stop = new AbortController();
  const signal = AbortSignal.any([interrupt.signal, stop.signal]);
  const reconnector = new Reconnector();
  let shown = '';
  // Set from callbacks, hence a holder TypeScript does not narrow away.
  const state: { failure: { error: unknown } | null; reading: Promise<void> | null } = {
    failure: null,
    reading: null,
  };
  let again = false;
  let why = 'now';

  const show = (response: StatusResponse) => {
    const text = json ? JSON.stringify(response) : renderStatus(response);
    if (text === shown) return;
    shown = text;
    if (json) return printJsonLine(response, out);
    const time = new Date().toLocaleTimeString(undefined, { hour12: false });
    if (terminal) out.write(`\x1b[H\x1b[2J${text}\n\n${time} ${why}\nwatching for changes; Ctrl-C to stop\n`);
    else out.write(`--- ${time} ${why}\n${text}\n`);
  };
  // One read at a time; events during a read make one more read after it, not one each.
  const refresh = (reason: string) => {
    why = reason;
    if (state.reading) {
      again = true;
      return;
    }
    state.reading = (async () => {
      do {
        again = false;
        show(await client.get<StatusResponse>(`/v1/status${query}`));
      } while (again && !signal.aborted);
    })()
      .catch((error: unknown) => {
        // A daemon going away also ends the stream, which reconnects and reads again.
        if (!isDaemonRestarting(error)) {
          state.failure = { error };
          stop.abort();
        }
      })
      .finally(() => (state.reading = null));
  };

  let lastEventId: string | undefined;
  let opened = false;
  try {
    while (!signal.aborted) {
      try {
        for await (const { id, data } of client.messages<EventStreamMessage>(`/v1/events${query}`, {
          signal,
          ...(lastEventId !== undefined ? { lastEventId } : {}),
          onOpen: () => {
            opened = true;
            reconnector.connected();
            refresh(lastEventId === undefined ? 'now' : 'reconnected');
          },
        })) {
          if (id !== undefined) lastEventId = id;
          refresh(describe(data));
        }
      } catch (error) {
        if (signal.aborted) break;
        // No daemon to begin with is said at once, as by `ferry status`; only a lost one is waited for.
        if (!opened) throw error;
        await reconnector.retry(error, signal).catch((retryError: unknown) => {
          if (!signal.aborted) throw retryError;
        });
      }
    }
    await state.reading;
  } finally {
    interrupt.dispose();
  }
  if (state.failure) throw state.failure.error;
}

/** What changed, in a few words, for the line above the status. */
function describe(message: EventStreamMessage): string {
  switch (message.kind) {
    case 'gap':
      return `missed events: ${message.message}`;
    case 'deployment':
      return `${message.app}: deployment ${message.deployment.id} ${message.deployment.status}: ${message.deployment.progress}`;
    case 'deployment-event':
      return `${message.app}: ${message.event.message}`;
    case 'instance':
      return `${message.app}: instance ${message.instance} ${message.state}`;
    case 'health':
      return `${message.app}: instance ${message.instance} ${message.health}`;
    default:
      return message.message;
  }
}
