import { Agent, request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { draftRunning, hostReport } from '../../protocol/test-support/messages.js';
import { DESIRED_STATE_PATH, MAX_REPORT_BYTES, REPORT_PATH } from '../../protocol/transport.js';
import { MemoryKv } from '../../store/kv/test-support/memory-kv.js';
import { waitFor } from '../../supervisor/test-support/wait.js';
import type { DesiredStates } from './desired-states.js';
import { HostExchange } from './host-exchange.js';
import { KvDesiredStates } from './kv-desired-states.js';
import { startAgentServer, staticAuthenticator } from './test-support/agent-server.js';

const CREDENTIAL = 'agent-cred-h1-7f3a9c';
const OTHER_CREDENTIAL = 'agent-cred-h2-0b1d44';
const POLL_BOUND_MS = 300;

let openWatches = 0;
const inner = new KvDesiredStates(new MemoryKv());
const states: DesiredStates = {
  get: (host) => inner.get(host),
  put: (...args) => inner.put(...args),
  watch: (...args) => {
    openWatches += 1;
    const watch = inner.watch(...args);
    return {
      cancel: () => {
        openWatches -= 1;
        watch.cancel();
      },
    };
  },
};
const exchange = new HostExchange({ desired: states, pollTimeoutMs: POLL_BOUND_MS });
const dispatcher = new Agent();
let server: Awaited<ReturnType<typeof startAgentServer>>;

beforeAll(async () => {
  server = await startAgentServer({
    exchange,
    authenticator: staticAuthenticator(
      new Map([
        [CREDENTIAL, 'h1'],
        [OTHER_CREDENTIAL, 'h2'],
      ]),
    ),
  });
});

afterAll(async () => {
  await server.app.close();
  await dispatcher.close();
});

async function call(
  method: 'GET' | 'POST',
  path: string,
  opts: { credential?: string | null; body?: string; type?: string; signal?: AbortSignal } = {},
): Promise<{ status: number; body: unknown; text: string }> {
  const credential = opts.credential === undefined ? CREDENTIAL : opts.credential;
  const response = await request(`${server.url}${path}`, {
    method,
    dispatcher,
    headers: {
      ...(credential !== null ? { authorization: `Bearer ${credential}` } : {}),
      ...(opts.body !== undefined ? { 'content-type': opts.type ?? 'application/json' } : {}),
    },
    ...(opts.body !== undefined ? { body: opts.body } : {}),
    ...(opts.signal ? { signal: opts.signal } : {}),
  });
  const text = await response.body.text();
  return { status: response.statusCode, text, body: text === '' ? null : (JSON.parse(text) as unknown) };
}

describe('agent API: authentication', () => {
  it("refuses a request without the agent's credential or with a wrong one (401, the envelope)", async () => {
    const none = await call('GET', `${DESIRED_STATE_PATH}?after=0`, { credential: null });
    expect(none.status).toBe(401);
    expect(none.body).toMatchObject({ error: { code: 'FERRY_E_UNAUTHORIZED', message: expect.any(String) } });
    const wrong = await call('POST', REPORT_PATH, {
      credential: 'not-a-credential-5e5e',
      body: JSON.stringify(hostReport('h1', 1)),
    });
    expect(wrong.status).toBe(401);
    expect(wrong.body).toMatchObject({ error: { code: 'FERRY_E_UNAUTHORIZED' } });
    expect(wrong.text).not.toContain('not-a-credential-5e5e');
    expect(exchange.latestReport('h1')).toBeNull();
  });
});

describe('agent API: GET /v1/agent/desired (long poll)', () => {
  it('answers at once a desired state newer than `after`', async () => {
    const doc = await exchange.publish('h1', draftRunning('1.0.0'));
    const answer = await call('GET', `${DESIRED_STATE_PATH}?after=0`);
    expect(answer.status).toBe(200);
    expect(answer.body).toEqual(doc);
  });

  it('holds the poll until a newer one is published, then answers it', async () => {
    const current = await exchange.desiredState('h1');
    const poll = call('GET', `${DESIRED_STATE_PATH}?after=${current?.revision}`);
    // The poll waits once the server opened the host's store watch.
    await waitFor('the poll to wait', () => openWatches === 1);
    const next = await exchange.publish('h1', draftRunning('2.0.0'));
    const answer = await poll;
    expect(answer.status).toBe(200);
    expect(answer.body).toEqual(next);
  });

  it('answers 204 once the bound passes with nothing newer', async () => {
    const current = await exchange.desiredState('h1');
    const started = Date.now();
    const answer = await call('GET', `${DESIRED_STATE_PATH}?after=${current?.revision}`);
    expect(answer.status).toBe(204);
    expect(answer.text).toBe('');
    expect(Date.now() - started).toBeGreaterThanOrEqual(POLL_BOUND_MS - 5);
  });

  it("serves only the credential's host: another agent waits on its own", async () => {
    const answer = await call('GET', `${DESIRED_STATE_PATH}?after=0`, { credential: OTHER_CREDENTIAL });
    expect(answer.status).toBe(204);
  });

  it('refuses an `after` that is not a revision (400, naming the field)', async () => {
    const answer = await call('GET', `${DESIRED_STATE_PATH}?after=-1`);
    expect(answer.status).toBe(400);
    expect(answer.body).toMatchObject({
      error: { code: 'FERRY_E_USAGE', message: expect.stringContaining('query.after') },
    });
  });

  it('ends the wait (and its store watch) when the agent closes the request', async () => {
    const current = await exchange.desiredState('h1');
    const aborted = new AbortController();
    const poll = call('GET', `${DESIRED_STATE_PATH}?after=${current?.revision}`, { signal: aborted.signal });
    await waitFor('the poll to wait', () => openWatches === 1);
    aborted.abort();
    await expect(poll).rejects.toThrow();
    await waitFor('the watch to end', () => openWatches === 0);
  });
});

describe('agent API: POST /v1/agent/report', () => {
  it('takes reports (204); the latest is the one kept', async () => {
    for (const note of ['a', 'b', 'c']) {
      const answer = await call('POST', REPORT_PATH, { body: JSON.stringify(hostReport('h1', 2, note)) });
      expect(answer.status).toBe(204);
    }
    expect(exchange.latestReport('h1')).toMatchObject({
      report: { agentVersion: 'c' },
      remoteAddress: '127.0.0.1',
    });
  });

  it("refuses a report for another host than the credential's (403)", async () => {
    const answer = await call('POST', REPORT_PATH, { body: JSON.stringify(hostReport('h2', 1)) });
    expect(answer.status).toBe(403);
    expect(answer.body).toMatchObject({
      error: { code: 'FERRY_E_FORBIDDEN', details: { expected: 'h1', got: 'h2' } },
    });
    expect(exchange.latestReport('h2')).toBeNull();
  });

  it('refuses a malformed report (400) naming the fields, and changes nothing', async () => {
    const before = exchange.latestReport('h1');
    const broken = { ...hostReport('h1', 3), at: 'now' };
    const answer = await call('POST', REPORT_PATH, { body: JSON.stringify(broken) });
    expect(answer.status).toBe(400);
    expect(answer.body).toMatchObject({
      error: { code: 'FERRY_E_USAGE', details: { problems: [expect.stringMatching(/^report\.at: /)] } },
    });
    const notJson = await call('POST', REPORT_PATH, { body: '{"host": ' });
    expect(notJson.status).toBe(400);
    expect(notJson.body).toMatchObject({ error: { code: 'FERRY_E_USAGE' } });
    const text = await call('POST', REPORT_PATH, { body: 'hello', type: 'text/plain' });
    expect(text.status).toBe(415);
    expect(text.body).toMatchObject({ error: { code: 'FERRY_E_UNSUPPORTED_MEDIA_TYPE' } });
    expect(exchange.latestReport('h1')).toBe(before);
  });

  it('refuses an oversized report (413, the bound in the message)', async () => {
    const before = exchange.latestReport('h1');
    const huge = { ...hostReport('h1', 3), labels: { filler: 'x'.repeat(MAX_REPORT_BYTES) } };
    const answer = await call('POST', REPORT_PATH, { body: JSON.stringify(huge) });
    expect(answer.status).toBe(413);
    expect(answer.body).toMatchObject({
      error: {
        code: 'FERRY_E_BODY_TOO_LARGE',
        message: `report: expected at most ${MAX_REPORT_BYTES} bytes, got more`,
      },
    });
    expect(exchange.latestReport('h1')).toBe(before);
  });
});
