import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type {
  DeploymentDetailResponse,
  DeploymentResponse,
  EventStreamMessage,
  FerryEvent,
  StatusResponse,
} from '../../src/api/types.js';
import { createHarness, freePort, type FerryHarness } from '../support/ferry.js';
import { openSse, type ReceivedEvent, type SseConnection } from '../support/sse.js';

type Received = ReceivedEvent<EventStreamMessage>;

/** The published events of a stream (not its gaps). */
const published = (events: readonly Received[]): FerryEvent[] =>
  events.flatMap((e) => (e.data.kind === 'gap' ? [] : [e.data]));

/** The global event stream of a real daemon: order, filters, resuming, reconnecting after a restart. */
describe('GET /v1/events', () => {
  let ferry: FerryHarness;
  let token: string;
  const open: Array<SseConnection<EventStreamMessage>> = [];

  beforeAll(async () => {
    const stagingPort = await freePort();
    ferry = await createHarness({
      instances: 1,
      top: 'environments: { production: {}, staging: {} }',
      appExtra: `    environments: { staging: { listen: "127.0.0.1:${stagingPort}" } }\n`,
    });
    await ferry.start();
    token = readFileSync(path.join(ferry.home, 'api-token'), 'utf8').trim();
  });

  afterAll(async () => {
    for (const connection of open) connection.close();
    await ferry?.cleanup();
  });

  const connect = async (query = '', lastEventId?: string): Promise<SseConnection<EventStreamMessage>> => {
    const connection = await openSse<EventStreamMessage>(
      `http://127.0.0.1:${ferry.apiPort}/v1/events${query}`,
      {
        authorization: `Bearer ${token}`,
        ...(lastEventId !== undefined ? { 'last-event-id': lastEventId } : {}),
      },
    );
    if (!('events' in connection)) throw new Error(`stream refused: ${JSON.stringify(connection)}`);
    open.push(connection);
    return connection;
  };

  /** Starts a deployment through the API; its id. */
  const deploy = async (version: string, env: string): Promise<string> => {
    const response = await fetch(`http://127.0.0.1:${ferry.apiPort}/v1/deployments`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ app: 'hello', version, env }),
    });
    expect(response.status).toBe(202);
    return ((await response.json()) as DeploymentResponse).deployment.id;
  };

  const finished = (stream: SseConnection<EventStreamMessage>, id: string) =>
    stream.waitForEvent(
      `deployment ${id} to succeed`,
      (e) =>
        e.data.kind === 'deployment' &&
        e.data.deployment.id === id &&
        e.data.deployment.status === 'succeeded',
    );

  it('needs the token, and names an unknown app or environment', async () => {
    const url = `http://127.0.0.1:${ferry.apiPort}/v1/events`;
    expect(await openSse(url)).toMatchObject({
      status: 401,
      error: { error: { code: 'FERRY_E_UNAUTHORIZED' } },
    });
    const auth = { authorization: `Bearer ${token}` };
    expect(await openSse(`${url}?app=nope`, auth)).toMatchObject({
      status: 404,
      error: { error: { code: 'FERRY_E_APP_UNKNOWN' } },
    });
    expect(await openSse(`${url}?app=constructor`, auth)).toMatchObject({ status: 404 });
    expect(await openSse(`${url}?env=nope`, auth)).toMatchObject({
      status: 404,
      error: {
        error: {
          code: 'FERRY_E_ENV_UNKNOWN',
          message: 'no environment named "nope" (known: production, staging)',
        },
      },
    });
    expect(await openSse(`${url}?color=red`, auth)).toMatchObject({
      status: 400,
      error: { error: { code: 'FERRY_E_USAGE' } },
    });
  });

  it('streams a deployment in order: its events and states, the new instance started and healthy, the old one stopped', async () => {
    const stream = await connect();
    const id = await deploy('1.1.0', 'production');
    await finished(stream, id);
    const events = published(stream.events);
    // Every event once, in order, with the id of its `id:` line.
    for (const [n, received] of stream.events.entries()) {
      expect(received.data.kind).not.toBe('gap');
      expect(received.id).toBe((received.data as FerryEvent).id);
      if (n > 0)
        expect((received.data as FerryEvent).seq).toBe((stream.events[n - 1]!.data as FerryEvent).seq + 1);
    }
    // The deployment's own events: all of them, as its event log has them, in order.
    const log = (await (
      await fetch(`http://127.0.0.1:${ferry.apiPort}/v1/deployments/${id}`, {
        headers: { authorization: `Bearer ${token}` },
      })
    ).json()) as DeploymentDetailResponse;
    const streamed = events.flatMap((e) =>
      e.kind === 'deployment-event' && e.event.deploymentId === id ? [e.event] : [],
    );
    expect(streamed).toEqual(log.events);

    const status = (await ferry.json<StatusResponse>('status', 'hello', '--env', 'production')).apps[0]!;
    const instance = status.instances[0]!;
    const at = (match: (e: FerryEvent) => boolean, what: string): number => {
      const index = events.findIndex(match);
      expect(index, what).toBeGreaterThanOrEqual(0);
      return index;
    };
    const started = at(
      (e) => e.kind === 'instance' && e.instance === instance.id && e.state === 'started',
      'started',
    );
    const healthy = at(
      (e) => e.kind === 'health' && e.instance === instance.id && e.health === 'healthy',
      'healthy',
    );
    const stopped = at(
      (e) =>
        e.kind === 'instance' && e.version === '1.0.0' && e.env === 'production' && e.state === 'stopped',
      'the old instance stopped',
    );
    const final = at(
      (e) => e.kind === 'deployment' && e.deployment.id === id && e.deployment.status === 'succeeded',
      'final',
    );
    expect(started).toBeLessThan(healthy);
    expect(healthy).toBeLessThan(stopped);
    expect(stopped).toBeLessThan(final);
    expect(events[started]).toMatchObject({
      app: 'hello',
      env: 'production',
      version: '1.1.0',
      pid: instance.pid,
    });
    expect(events[stopped]).toMatchObject({ detail: 'release 1.0.0 retired' });
    stream.close();
  });

  it('filters by app and environment; host-wide events reach every filter', async () => {
    const staging = await connect('?env=staging');
    const production = await connect('?app=hello&env=production');
    const id = await deploy('1.1.0', 'staging');
    await finished(staging, id);
    const stagingEvents = published(staging.events);
    expect(stagingEvents.length).toBeGreaterThan(5);
    expect(stagingEvents.every((e) => e.env === 'staging' || e.env === null)).toBe(true);
    expect(stagingEvents.some((e) => e.kind === 'instance' && e.state === 'started')).toBe(true);

    // A router worker killed: a host-wide event, seen by both streams.
    const router = (await ferry.json<StatusResponse>('status')).router;
    process.kill(router.workers[0]!.pid!, 'SIGKILL');
    const restart = (e: Received) => e.data.kind === 'router' && e.data.change === 'worker-restarted';
    const seen = await production.waitForEvent('the worker restart', restart);
    await staging.waitForEvent('the worker restart on the staging stream', restart);
    expect(seen.data).toMatchObject({ app: null, env: null, kind: 'router' });
    expect(published(production.events).every((e) => e.env === 'production' || e.env === null)).toBe(true);
    expect(published(production.events).some((e) => e.kind === 'deployment' && e.deployment.id === id)).toBe(
      false,
    );
  });

  it('resumes after Last-Event-ID with exactly what followed, as a stream that stayed connected saw it', async () => {
    const reference = await connect();
    const first = await connect();
    const id = await deploy('1.0.0', 'staging');
    await first.waitForCount(3, 'three events on the first connection');
    first.close();
    const lastSeen = first.events[2]!.id!;
    await finished(reference, id);
    const resumed = await connect('', lastSeen);
    const ids = (events: readonly Received[]) => events.map((e) => e.id);
    const after = ids(reference.events).slice(ids(reference.events).indexOf(lastSeen) + 1);
    await resumed.waitForCount(after.length, `${after.length} events resumed`);
    expect(ids(resumed.events).slice(0, after.length)).toEqual(after);
    expect(resumed.events.some((e) => e.data.kind === 'gap')).toBe(false);
  });

  it('after the daemon restarted, a reconnect with an old id is told so, then gets the events since the start', async () => {
    const stream = await connect();
    const id = await deploy('1.1.0', 'staging');
    await finished(stream, id);
    const lastSeen = stream.events.at(-1)!.id!;
    stream.close();
    await ferry.kill9();
    await ferry.start();
    const reconnected = await connect('', lastSeen);
    const [gap] = await reconnected.waitForCount(2, 'the gap and the first event of the new run');
    expect(gap!.data).toMatchObject({ kind: 'gap', reason: 'restarted', lastEventId: lastSeen });
    expect(gap!.id).toBeUndefined();
    const config = await reconnected.waitForEvent(
      'the config applied at start',
      (e) => e.data.kind === 'config',
    );
    expect(config.data).toMatchObject({
      source: 'start',
      app: null,
      apps: ['hello'],
      path: ferry.configPath,
    });
    expect(config.id).not.toBe(lastSeen);
  });
});
