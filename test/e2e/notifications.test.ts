import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyPayload } from '../../src/notify/signature.js';
import { createHarness, freePort, type FerryHarness } from '../support/ferry.js';
import { waitFor } from '../support/wait.js';

const SECRET = 'e2e-signing-s3cret';

interface Received {
  readonly headers: IncomingMessage['headers'];
  readonly body: string;
}

/** An HTTP server on loopback; `answer` decides what each request gets (never answering is one choice). */
async function receiver(answer: (req: IncomingMessage, res: ServerResponse, body: string) => void) {
  const received: Received[] = [];
  const sockets = new Set<Socket>();
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      received.push({ headers: req.headers, body });
      answer(req, res, body);
    });
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    received,
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

type Receiver = Awaited<ReturnType<typeof receiver>>;

/** A real `ferry up` telling its deployments to a live receiver, a hanging one and a refused port. */
describe('notifications', () => {
  let ferry: FerryHarness;
  let live: Receiver;
  let hanging: Receiver;
  let refusedPort: number;

  beforeAll(async () => {
    live = await receiver((_req, res) => res.end('ok'));
    hanging = await receiver(() => undefined);
    refusedPort = await freePort();
    ferry = await createHarness({
      instances: 1,
      healthDeadline: '4s',
      daemonEnv: { NOTIFY_SECRET: SECRET },
      top: `notifications:
  - { kind: webhook, url: "http://127.0.0.1:${live.port}/ferry/in", secret_env: NOTIFY_SECRET }
  - { kind: webhook, url: "http://127.0.0.1:${hanging.port}/hang/p4th-s3cret", secret_env: NOTIFY_SECRET, timeout: 1s, attempts: 2 }
  - { kind: slack, url: "http://127.0.0.1:${refusedPort}/services/T0/B0/sl4ck-s3cret", events: [succeeded, rolled-back], attempts: 2 }`,
    });
    await ferry.start();
  });

  afterAll(async () => {
    await ferry?.cleanup();
    await live?.close();
    await hanging?.close();
  });

  /** The live receiver's events of one deployment, each checked against its signature. */
  const eventsOf = (deploymentId: string) =>
    live.received
      .map((r) => {
        const timestamp = String(r.headers['x-ferry-timestamp']);
        const signature = String(r.headers['x-ferry-signature-256']);
        expect(verifyPayload(SECRET, timestamp, r.body, signature)).toBe(true);
        expect(Math.abs(Number(timestamp) - Date.now() / 1000)).toBeLessThan(300);
        const body = JSON.parse(r.body) as {
          kind: string;
          deployment: { id: string };
          reason: string | null;
        };
        expect(r.headers['x-ferry-event']).toBe(body.kind);
        expect(r.headers['x-ferry-delivery']).toMatch(/^[0-9a-f-]{36}$/);
        return body;
      })
      .filter((body) => body.deployment.id === deploymentId);

  /** Deploys and waits for the end (`--wait`); the deployment's id and how the command exited. */
  const deploy = async (version: string): Promise<{ id: string; code: number }> => {
    const result = await ferry.cli('deploy', 'hello', version, '--wait', '--json');
    const first = JSON.parse(result.stdout.split('\n')[0] ?? '') as { deployment: { id: string } };
    return { id: first.deployment.id, code: result.code };
  };

  it('delivers signed events of a deployment in order while the other destinations are dead', async () => {
    const started = Date.now();
    const { id, code } = await deploy('1.1.0');
    expect(code).toBe(0);
    // A hanging receiver (1 s per attempt) and a refused port are not waited for.
    const took = Date.now() - started;
    const events = await waitFor('started and succeeded at the live receiver', () => {
      const kinds = eventsOf(id).map((e) => e.kind);
      return kinds.includes('succeeded') ? kinds : null;
    });
    expect(events).toEqual(['started', 'succeeded']);
    expect(took).toBeLessThan(20_000);
    // The hanging receiver got the first notification and holds it; Ferry is done meanwhile.
    await waitFor('the hanging receiver to be asked', () => hanging.received.length > 0);
    const status = await ferry.json<{ apps: Array<{ current: string | null }> }>('status', '--json');
    expect(JSON.stringify(status)).toContain('1.1.0');
  });

  it('tells a rollback with its reason, and gives dead destinations up in the log without their secrets', async () => {
    const { id, code } = await deploy('2.0.0-unhealthy');
    expect(code).not.toBe(0);
    const events = await waitFor('the rollback at the live receiver', () => {
      const got = eventsOf(id);
      return got.some((e) => e.kind === 'rolled-back') ? got : null;
    });
    expect(events.map((e) => e.kind)).toEqual(['started', 'rolled-back']);
    expect(events[1]?.reason).toMatch(/\S/);
    const log = path.join(ferry.home, 'daemon.log');
    await waitFor('a notification given up', () =>
      readFileSync(log, 'utf8').includes('notification not delivered'),
    );
    const text = readFileSync(log, 'utf8');
    expect(text).toContain(`webhook http://127.0.0.1:${hanging.port}/***`);
    for (const secret of [SECRET, 'p4th-s3cret', 'sl4ck-s3cret']) expect(text).not.toContain(secret);
  });
});
