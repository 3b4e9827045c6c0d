import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { Deployment, DeploymentEvent, DeploymentStreamMessage } from '../api/types.js';
import { ApiClient } from './client.js';
import { Reconnector } from './reconnect.js';
import { waitForDeployment } from './wait.js';

const deployment = (status: string): Deployment =>
  ({
    id: 'd-1',
    app: 'hello',
    kind: 'deploy',
    from: '1.0.0',
    to: '1.1.0',
    status,
    phase: status === 'running' ? 'starting' : 'done',
    progress: status,
    createdAt: 0,
    strategy: { kind: 'blue-green' },
    failure: null,
  }) as unknown as Deployment;

const event = (seq: number): DeploymentEvent => ({
  deploymentId: 'd-1',
  seq,
  at: seq * 1000,
  type: 'record',
  message: `event ${seq}`,
});

const servers: http.Server[] = [];
afterEach(() => {
  for (const server of servers.splice(0)) server.close();
});

type Handler = (send: (m: DeploymentStreamMessage, id?: number) => void, res: http.ServerResponse) => void;

/**
 * A daemon's deployment stream on 127.0.0.1: each connection is answered by the next handler;
 * 'starting' (and every connection once they are used up) by a daemon still starting (503).
 */
async function daemon(handlers: Array<Handler | 'starting'>) {
  const lastEventIds: Array<string | undefined> = [];
  const server = http.createServer((req, res) => {
    lastEventIds.push(req.headers['last-event-id'] as string | undefined);
    const handler = handlers.shift() ?? 'starting';
    if (handler === 'starting') {
      res.writeHead(503, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: { code: 'FERRY_E_DAEMON_STARTING', message: 'starting' } }));
      return;
    }
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    handler(
      (m, id) => res.write(`${id !== undefined ? `id: ${id}\n` : ''}data: ${JSON.stringify(m)}\n\n`),
      res,
    );
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const client = new ApiClient({
    url,
    token: 't',
    certFile: undefined,
    source: 'test',
    upCommand: '',
    flags: '',
  });
  return { client, lastEventIds };
}

function output() {
  let text = '';
  const out = {
    isTTY: false,
    write: (s: string) => {
      text += s;
      return true;
    },
  } as unknown as NodeJS.WriteStream;
  return { out, text: () => text };
}

describe('waitForDeployment', () => {
  it('after a lost stream, resumes with Last-Event-ID after the last event printed; prints each once', async () => {
    const { client, lastEventIds } = await daemon([
      (send, res) => {
        send({ kind: 'event', event: event(1) }, 1);
        send({ kind: 'event', event: event(2) }, 2);
        send({ kind: 'state', deployment: deployment('running') });
        // kill -9: the connection drops mid-stream.
        setImmediate(() => res.destroy());
      },
      'starting',
      (send, res) => {
        send({ kind: 'event', event: event(3) }, 3);
        send({ kind: 'state', deployment: deployment('succeeded') });
        res.end();
      },
    ]);
    const { out, text } = output();
    const code = await waitForDeployment(client, deployment('running'), out, {
      reconnector: new Reconnector({ firstDelayMs: 1, maxDelayMs: 5 }),
    });
    expect(code).toBe(0);
    expect(lastEventIds).toEqual([undefined, '2', '2']);
    expect(
      text()
        .split('\n')
        .filter((l) => l.includes('event ')),
    ).toEqual(['00:00:01.000 event 1', '00:00:02.000 event 2', '00:00:03.000 event 3']);
    expect(text()).toContain('deployment d-1 succeeded: 1.0.0 -> 1.1.0');
  });

  it('gives up when the daemon stays away, with its error', async () => {
    const { client } = await daemon([]);
    const { out } = output();
    await expect(
      waitForDeployment(client, deployment('running'), out, {
        reconnector: new Reconnector({ firstDelayMs: 1, maxDelayMs: 2, maxAttempts: 3 }),
      }),
    ).rejects.toThrow(/starting/);
  });
});
