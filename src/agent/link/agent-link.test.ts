import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import Fastify from 'fastify';
import { Agent } from 'node:http';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { HostDesiredState } from '../../protocol/desired-state.js';
import { draftRunning, hostReport } from '../../protocol/test-support/messages.js';
import { DESIRED_STATE_PATH } from '../../protocol/transport.js';
import { HostExchange } from '../../server/agent-api/host-exchange.js';
import { KvDesiredStates } from '../../server/agent-api/kv-desired-states.js';
import { startAgentServer, staticAuthenticator } from '../../server/agent-api/test-support/agent-server.js';
import { MemoryKv } from '../../store/kv/test-support/memory-kv.js';
import { waitFor } from '../../supervisor/test-support/wait.js';
import { AgentLink, type AgentLinkOptions } from './agent-link.js';
import { desiredFilePath } from './desired-file.js';
import { HttpAgentTransport } from './http-transport.js';
import { InProcessAgentTransport } from './in-process-transport.js';
import type { AgentTransport } from './transport.js';

const CREDENTIALS = new Map([
  ['cred-h1-4d1c7e', 'h1'],
  ['cred-h2-99ab02', 'h2'],
]);
const credentialOf = (host: string) => [...CREDENTIALS].find(([, h]) => h === host)?.[0] ?? 'none';

/** The server's side and a way to reach it, over one transport. */
interface Harness {
  readonly exchange: HostExchange;
  transport(host: string): AgentTransport;
  /** A transport to a server that is not there. */
  deadTransport(host: string): AgentTransport;
  close(): Promise<void>;
}

const POLL_BOUND_MS = 400;

function newExchange(): HostExchange {
  return new HostExchange({ desired: new KvDesiredStates(new MemoryKv()), pollTimeoutMs: POLL_BOUND_MS });
}

const transports: Array<{ name: string; start: () => Promise<Harness> }> = [
  {
    name: 'HTTP',
    start: async () => {
      const exchange = newExchange();
      const server = await startAgentServer({ exchange, authenticator: staticAuthenticator(CREDENTIALS) });
      const connections = new Agent({ keepAlive: true });
      const closed = await startAgentServer({ exchange, authenticator: staticAuthenticator(CREDENTIALS) });
      await closed.app.close();
      const http = (url: string, host: string) =>
        new HttpAgentTransport({ baseUrl: url, credential: credentialOf(host), connections });
      return {
        exchange,
        transport: (host) => http(server.url, host),
        deadTransport: (host) => http(closed.url, host),
        close: async () => {
          await server.app.close();
          connections.destroy();
          exchange.close();
        },
      };
    },
  },
  {
    name: 'in-process',
    start: () => {
      const exchange = newExchange();
      const stopped = newExchange();
      stopped.close();
      return Promise.resolve({
        exchange,
        transport: (host) => new InProcessAgentTransport(exchange, host),
        deadTransport: (host) => new InProcessAgentTransport(stopped, host),
        close: () => {
          exchange.close();
          return Promise.resolve();
        },
      });
    },
  },
];

let dir: string;
const links: AgentLink[] = [];

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ferry-agent-link-'));
});

afterEach(async () => {
  await Promise.all(links.splice(0).map((link) => link.stop()));
  await rm(dir, { recursive: true, force: true });
});

/** A link (stopped after the test) recording what it applied, and what the kept file held then. */
function newLink(transport: AgentTransport, overrides: Partial<AgentLinkOptions> = {}) {
  const applied: HostDesiredState[] = [];
  const keptAtApply: unknown[] = [];
  const link = new AgentLink({
    transport,
    hostId: 'h1',
    dataDir: join(dir, 'agent'),
    apply: async (doc) => {
      keptAtApply.push(JSON.parse(await readFile(desiredFilePath(join(dir, 'agent')), 'utf8')));
      applied.push(doc);
    },
    backoff: { initialMs: 20, maxMs: 200 },
    heartbeatMs: 300,
    ...overrides,
  });
  links.push(link);
  return { link, applied, keptAtApply };
}

describe.each(transports)('AgentLink over the $name transport', ({ start }) => {
  let harness: Harness;

  beforeEach(async () => {
    harness = await start();
  });

  afterEach(async () => {
    await harness.close();
  });

  it('gets a published desired state within the long poll: kept on disk, then applied', async () => {
    const { link, applied, keptAtApply } = newLink(harness.transport('h1'));
    await link.start();
    await waitFor('the link to connect', () => link.status.connection === 'connected');
    const first = await harness.exchange.publish('h1', draftRunning('1.0.0'));
    await waitFor('the first desired state', () => applied.length === 1);
    const second = await harness.exchange.publish('h1', draftRunning('2.0.0'));
    await waitFor('the second desired state', () => applied.length === 2);
    expect(applied).toEqual([first, second]);
    expect(keptAtApply).toEqual([first, second]);
    expect(link.status).toMatchObject({
      state: 'running',
      connection: 'connected',
      revision: second?.revision,
    });
    // Another host's desired state is not this agent's business.
    await harness.exchange.publish('h2', draftRunning('9.0.0'));
    const third = await harness.exchange.publish('h1', draftRunning('3.0.0'));
    await waitFor('the third desired state', () => applied.length === 3);
    expect(applied[2]).toEqual(third);
  });

  it('sends its reports, the latest winning, and the latest again at every heartbeat', async () => {
    const received: string[] = [];
    harness.exchange.onReport((r) => received.push(r.report.agentVersion), 'h1');
    const { link } = newLink(harness.transport('h1'));
    await link.start();
    for (const note of ['r1', 'r2', 'r3']) link.report(hostReport('h1', 1, note));
    await waitFor(
      'the latest report',
      () => harness.exchange.latestReport('h1')?.report.agentVersion === 'r3',
    );
    // Never an older one after a newer one; r3 comes again with the heartbeats.
    await waitFor('a heartbeat', () => received.filter((r) => r === 'r3').length >= 2);
    const order = received.map((r) => Number(r.slice(1)));
    expect(order).toEqual([...order].sort());
    expect(link.status.lastReportAt).not.toBeNull();
    expect(harness.exchange.hosts().map((h) => h.host)).toEqual(['h1']);
  });

  it("has a report for another host refused, and says so in its status (the server's code)", async () => {
    const { link } = newLink(harness.transport('h1'));
    await link.start();
    link.report(hostReport('h2', 1));
    await waitFor('the refusal', () => link.status.lastError !== null);
    expect(link.status.lastError).toMatchObject({ code: 'FERRY_E_FORBIDDEN' });
    expect(harness.exchange.latestReport('h2')).toBeNull();
  });

  it('restarted without its server, applies the desired state it kept at once, and keeps it', async () => {
    const first = newLink(harness.transport('h1'));
    await first.link.start();
    const doc = await harness.exchange.publish('h1', draftRunning('1.0.0'));
    await waitFor('the desired state', () => first.applied.length === 1);
    await first.link.stop();

    const { link, applied } = newLink(harness.deadTransport('h1'));
    await link.start();
    expect(applied).toEqual([doc]);
    link.report(hostReport('h1', doc?.revision ?? 0));
    await waitFor('the link to give up on the server', () => link.status.connection === 'disconnected');
    expect(link.status).toMatchObject({
      lastError: { code: 'FERRY_E_SERVER_UNREACHABLE' },
      revision: doc?.revision,
    });
    expect(link.desired).toEqual(doc);
    expect(applied).toEqual([doc]);
  });
});

describe('AgentLink over HTTP: losing the server', () => {
  it('keeps its desired state while the server is gone, backs off, and catches up once one listens again', async () => {
    const exchange = newExchange();
    const authenticator = staticAuthenticator(CREDENTIALS);
    let server = await startAgentServer({ exchange, authenticator });
    const connections = new Agent({ keepAlive: true });
    try {
      const transport = new HttpAgentTransport({
        baseUrl: server.url,
        credential: credentialOf('h1'),
        connections,
      });
      const { link, applied } = newLink(transport);
      await link.start();
      const first = await exchange.publish('h1', draftRunning('1.0.0'));
      await waitFor('the first desired state', () => applied.length === 1);

      await server.app.close();
      await waitFor('the link to notice', () => link.status.connection === 'disconnected');
      const lostSince = link.status.since;
      expect(link.status.lastError?.code).toBe('FERRY_E_SERVER_UNREACHABLE');
      expect(link.desired).toEqual(first);
      // Meanwhile the control plane moves on, and the agent's reconciler reports.
      const second = await exchange.publish('h1', draftRunning('2.0.0'));
      link.report(hostReport('h1', first?.revision ?? 0, 'while-away'));

      server = await startAgentServer({ exchange, authenticator, port: server.port });
      await waitFor('the second desired state', () => applied.length === 2);
      expect(applied).toEqual([first, second]);
      await waitFor(
        'the report kept while away',
        () => exchange.latestReport('h1')?.report.agentVersion === 'while-away',
      );
      await waitFor('the link to be connected', () => link.status.connection === 'connected');
      expect(link.status.since).toBeGreaterThanOrEqual(lostSince);
    } finally {
      await server.app.close();
      connections.destroy();
      exchange.close();
    }
  });

  it('with a wrong credential: refused (401), retried with backoff, and the credential never shown', async () => {
    const exchange = newExchange();
    const server = await startAgentServer({ exchange, authenticator: staticAuthenticator(CREDENTIALS) });
    const connections = new Agent({ keepAlive: true });
    const secret = 'wrong-credential-0c0ffee';
    try {
      const transport = new HttpAgentTransport({
        baseUrl: `http://user:pass@127.0.0.1:${server.port}/`,
        credential: secret,
        connections,
      });
      const { link } = newLink(transport);
      await link.start();
      await waitFor('the refusal', () => link.status.lastError !== null);
      expect(link.status).toMatchObject({
        connection: 'disconnected',
        target: `http://127.0.0.1:${server.port}/`,
        lastError: { code: 'FERRY_E_UNAUTHORIZED' },
      });
      expect(JSON.stringify(link.status)).not.toMatch(/wrong-credential|pass/);
    } finally {
      await server.app.close();
      connections.destroy();
      exchange.close();
    }
  });

  it('shows an error code it does not know (a newer server) as given, and goes on', async () => {
    const newer = Fastify({ logger: false, forceCloseConnections: true });
    newer.get(DESIRED_STATE_PATH, (_request, reply) =>
      reply
        .status(409)
        .send({ error: { code: 'FERRY_E_HOST_RETIRED', message: 'this host was retired', details: {} } }),
    );
    await newer.listen({ host: '127.0.0.1', port: 0 });
    const connections = new Agent({ keepAlive: true });
    try {
      const port = (newer.server.address() as AddressInfo).port;
      const transport = new HttpAgentTransport({
        baseUrl: `http://127.0.0.1:${port}`,
        credential: 'c',
        connections,
      });
      const { link } = newLink(transport);
      await link.start();
      await waitFor('the refusal', () => link.status.lastError !== null);
      expect(link.status).toMatchObject({
        connection: 'disconnected',
        lastError: { code: 'FERRY_E_HOST_RETIRED', message: 'this host was retired' },
      });
    } finally {
      await newer.close();
      connections.destroy();
    }
  });
});
