import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { FerryError } from '../errors/ferry-error.js';
import { EventPublisher } from '../events/publisher.js';
import { silentLogger } from '../lib/logger.js';
import type { ControlPlane } from './control-plane.js';
import { createApiServer } from './server.js';
import type { Deployment } from './types.js';

const TOKEN = 'secret-token-123';

function fakeControl(overrides: Partial<ControlPlane> = {}): ControlPlane {
  const deployment = {
    id: 'd-1',
    app: 'hello',
    to: '1.1.0',
    status: 'pending',
    progress: 'installing 1.1.0',
  } as unknown as Deployment;
  return {
    events: new EventPublisher({ now: () => 0 }),
    checkEventFilter: () => undefined,
    metrics: () => Promise.resolve({ contentType: 'text/plain; version=0.0.4', text: '# none\n' }),
    status: () =>
      Promise.resolve({
        daemon: { pid: 1, version: '0', uptimeMs: 0, routerPid: null },
        router: {
          state: 'running',
          pid: null,
          version: null,
          uptimeMs: null,
          restarts: 0,
          workers: [],
          error: null,
        },
        apps: [],
        rollouts: [],
      }),
    deploy: () => Promise.resolve({ deployment }),
    rollback: () => Promise.resolve({ deployment }),
    restart: () => Promise.resolve({ deployment }),
    planConfig: () => Promise.resolve({ id: 'p', path: null, prune: false, changes: [], refused: [] }),
    applyConfig: () =>
      Promise.resolve({
        plan: { id: 'p', path: null, prune: false, changes: [], refused: [] },
        deployments: [],
      }),
    command: () => Promise.resolve({ deployment }),
    rollout: () => Promise.reject(new Error('no rollout in this test')),
    setCanaryWeight: () => Promise.resolve(deployment),
    deployment: () => Promise.resolve(deployment),
    deploymentEvents: () => Promise.resolve([]),
    history: () => Promise.resolve({ deployments: [], releases: [] }),
    addRelease: () => Promise.reject(new Error('not in this test')),
    releases: () => Promise.resolve({ releases: [] }),
    hosts: () => Promise.resolve({ hosts: [] }),
    revokeHost: () => Promise.reject(new FerryError('FERRY_E_HOST_UNKNOWN', 'no enrolled host')),
    createJoinToken: () => Promise.reject(new Error('not in this test')),
    joinTokens: () => Promise.resolve({ joinTokens: [] }),
    revokeJoinToken: () => Promise.reject(new FerryError('FERRY_E_JOIN_TOKEN_UNKNOWN', 'no join token')),
    lock: () => Promise.reject(new Error('not in this test')),
    unlock: () => Promise.reject(new Error('not in this test')),
    locks: () => Promise.resolve({ locks: [], queued: [] }),
    logs: () => Promise.resolve({ lines: [] }),
    followLogs: () => Promise.resolve(),
    targets: {
      report: () => Promise.reject(new Error('no targets in this test')),
      deploy: () => Promise.reject(new Error('no targets in this test')),
      command: () => Promise.reject(new Error('no targets in this test')),
      rollout: () => Promise.reject(new Error('no targets in this test')),
      list: () => Promise.resolve({ rollouts: [] }),
    },
    ...overrides,
  };
}

function server(control = fakeControl()) {
  return createApiServer({ control, token: TOKEN, logger: silentLogger() });
}

const auth = { authorization: `Bearer ${TOKEN}` };

describe('API', () => {
  it('serves /healthz without a token and refuses every other route without the right one', async () => {
    const api = server();
    expect((await api.inject({ url: '/healthz' })).statusCode).toBe(200);
    const none = await api.inject({ url: '/v1/status' });
    expect(none.statusCode).toBe(401);
    expect(none.json()).toMatchObject({ error: { code: 'FERRY_E_UNAUTHORIZED' } });
    const wrong = await api.inject({ url: '/v1/status', headers: { authorization: 'Bearer nope' } });
    expect(wrong.statusCode).toBe(401);
    expect(wrong.body).not.toContain(TOKEN);
    expect((await api.inject({ url: '/v1/status', headers: auth })).statusCode).toBe(200);
  });

  it('answers 202 with the deployment', async () => {
    const response = await server().inject({
      method: 'POST',
      url: '/v1/deployments',
      headers: auth,
      payload: { app: 'hello', version: '1.1.0' },
    });
    expect(response.statusCode).toBe(202);
    expect(response.json()).toMatchObject({ deployment: { id: 'd-1' } });
  });

  it('locks with the API actor as owner; answers FERRY_E_LOCKED as 423 with the lock; checks names first', async () => {
    const calls: unknown[] = [];
    const lock = {
      env: 'production',
      app: null,
      owner: 'api',
      reason: 'release freeze',
      createdAt: 1,
      expiresAt: 2,
    };
    const api = server(
      fakeControl({
        lock: (body, actor) => (calls.push({ ...body, actor }), Promise.resolve({ lock, replaced: null })),
        deploy: () =>
          Promise.reject(
            new FerryError('FERRY_E_LOCKED', 'production is locked by api', { lock: { ...lock } }),
          ),
      }),
    );
    const taken = await api.inject({
      method: 'POST',
      url: '/v1/locks',
      headers: auth,
      payload: { env: 'production', reason: 'release freeze', ttl: '2h' },
    });
    expect(taken.statusCode).toBe(200);
    expect(calls).toEqual([{ env: 'production', reason: 'release freeze', ttl: '2h', actor: 'api' }]);
    const badName = await api.inject({
      method: 'POST',
      url: '/v1/locks/unlock',
      headers: auth,
      payload: { env: '../etc' },
    });
    expect(badName.statusCode).toBe(400);
    expect(badName.json()).toMatchObject({
      error: { code: 'FERRY_E_USAGE', message: expect.stringMatching(/body\.env: expected a name/) },
    });
    const refused = await api.inject({
      method: 'POST',
      url: '/v1/deployments',
      headers: auth,
      payload: { app: 'hello', version: '1.1.0' },
    });
    expect(refused.statusCode).toBe(423);
    expect(refused.json()).toMatchObject({ error: { code: 'FERRY_E_LOCKED', details: { lock } } });
  });

  it('names every wrong field of a request and changes nothing', async () => {
    let called = false;
    const api = server(fakeControl({ deploy: () => ((called = true), Promise.reject(new Error('no'))) }));
    const response = await api.inject({
      method: 'POST',
      url: '/v1/deployments',
      headers: auth,
      payload: { app: 'hello', verison: '1', strategy: 'yolo' },
    });
    expect(response.statusCode).toBe(400);
    const { error } = response.json<{ error: { code: string; message: string } }>();
    expect(error.code).toBe('FERRY_E_USAGE');
    expect(error.message).toMatch(/body\.version/);
    expect(error.message).toMatch(/body\.strategy/);
    expect(error.message).toMatch(/verison/);
    expect(called).toBe(false);
  });

  it('plans and applies a configuration sent as text; refuses a relative path and expect on a plan', async () => {
    const bodies: unknown[] = [];
    const api = server(
      fakeControl({
        planConfig: (body) => (bodies.push(body), fakeControl().planConfig(body)),
        applyConfig: (body, actor) => (
          bodies.push({ ...body, actor }),
          fakeControl().applyConfig(body, actor)
        ),
      }),
    );
    const config = `apps: {}\n# ${'x'.repeat(100_000)}`;
    const plan = await api.inject({
      method: 'POST',
      url: '/v1/config/plan',
      headers: auth,
      payload: { config, path: '/srv/ferry.yaml', prune: true },
    });
    expect(plan.statusCode).toBe(200);
    expect(plan.json()).toMatchObject({ id: 'p', changes: [] });
    const apply = await api.inject({
      method: 'POST',
      url: '/v1/config/apply',
      headers: auth,
      payload: { expect: 'p' },
    });
    expect(apply.statusCode).toBe(200);
    expect(bodies).toEqual([
      { config, path: '/srv/ferry.yaml', prune: true },
      { expect: 'p', actor: 'api' },
    ]);
    for (const payload of [{ path: 'ferry.yaml' }, { expect: 'p' }]) {
      const refused = await api.inject({ method: 'POST', url: '/v1/config/plan', headers: auth, payload });
      expect(refused.statusCode).toBe(400);
      expect(refused.json()).toMatchObject({ error: { code: 'FERRY_E_USAGE' } });
    }
    expect(bodies).toHaveLength(2);
  });

  it('maps catalog errors to their status', async () => {
    const busy = new FerryError(
      'FERRY_E_DEPLOYMENT_IN_PROGRESS',
      'deployment d-0 of hello in production is running',
    );
    const response = await server(fakeControl({ deploy: () => Promise.reject(busy) })).inject({
      method: 'POST',
      url: '/v1/deployments',
      headers: auth,
      payload: { app: 'hello', version: '2' },
    });
    expect(response.statusCode).toBe(409);
    expect(response.json()).toMatchObject({
      error: { code: 'FERRY_E_DEPLOYMENT_IN_PROGRESS', message: busy.message },
    });
  });

  it('hides internal errors behind a stable code', async () => {
    const response = await server(
      fakeControl({ history: () => Promise.reject(new Error('SQLITE_CORRUPT at /secret/path')) }),
    ).inject({ url: '/v1/apps/hello/history', headers: auth });
    expect(response.statusCode).toBe(500);
    expect(response.body).not.toContain('/secret/path');
  });

  it('refuses oversized bodies and unknown routes clearly', async () => {
    const api = server();
    const big = await api.inject({
      method: 'POST',
      url: '/v1/deployments',
      headers: { ...auth, 'content-type': 'application/json' },
      payload: JSON.stringify({ app: 'x'.repeat(70_000), version: '1' }),
    });
    expect(big.statusCode).toBe(413);
    expect(big.json()).toMatchObject({ error: { code: 'FERRY_E_BODY_TOO_LARGE' } });
    const unknown = await api.inject({ url: '/v1/nope', headers: auth });
    expect(unknown.statusCode).toBe(404);
    expect(unknown.json<{ error: { message: string } }>().error.message).toBe('no route GET /v1/nope');
  });

  it('refuses an unknown command', async () => {
    const response = await server().inject({
      method: 'POST',
      url: '/v1/apps/hello/explode',
      headers: auth,
      payload: {},
    });
    expect(response.statusCode).toBe(400);
    expect(response.json<{ error: { message: string } }>().error.message).toMatch(/path\.command/);
  });

  it('answers 503 FERRY_E_DAEMON_STARTING while the daemon starts, and /healthz says so', async () => {
    let ready = false;
    let called = false;
    const api = createApiServer({
      control: fakeControl({ deploy: () => ((called = true), Promise.reject(new Error('no'))) }),
      token: TOKEN,
      logger: silentLogger(),
      isReady: () => ready,
    });
    const health = await api.inject({ url: '/healthz' });
    expect(health.statusCode).toBe(503);
    expect(health.json()).toEqual({ ok: false, state: 'starting' });
    const status = await api.inject({ url: '/v1/status', headers: auth });
    expect(status.statusCode).toBe(503);
    expect(status.json()).toMatchObject({ error: { code: 'FERRY_E_DAEMON_STARTING' } });
    const deploy = await api.inject({
      method: 'POST',
      url: '/v1/deployments',
      headers: auth,
      payload: { app: 'hello', version: '1.1.0' },
    });
    expect(deploy.statusCode).toBe(503);
    expect(called).toBe(false);
    // The token is still checked first: a starting daemon tells nothing to a stranger.
    expect((await api.inject({ url: '/v1/status' })).statusCode).toBe(401);

    ready = true;
    expect((await api.inject({ url: '/healthz' })).json()).toEqual({ ok: true, state: 'running' });
    expect((await api.inject({ url: '/v1/status', headers: auth })).statusCode).toBe(200);
  });

  it('passes force through for deploy and abort, and refuses it on other commands', async () => {
    const seen: unknown[] = [];
    const api = server(
      fakeControl({
        deploy: (body) => (seen.push(body), fakeControl().deploy(body, 'api')),
        command: (app, env, command, _actor, opts) => (
          seen.push({ app, env, command, opts }),
          fakeControl().command(app, env, command, 'api')
        ),
      }),
    );
    const deploy = await api.inject({
      method: 'POST',
      url: '/v1/deployments',
      headers: auth,
      payload: { app: 'hello', version: '2.0.1', force: true },
    });
    expect(deploy.statusCode).toBe(202);
    const abort = await api.inject({
      method: 'POST',
      url: '/v1/apps/hello/abort',
      headers: auth,
      payload: { force: true },
    });
    expect(abort.statusCode).toBe(200);
    expect(seen).toEqual([
      { app: 'hello', version: '2.0.1', force: true },
      { app: 'hello', env: undefined, command: 'abort', opts: { force: true } },
    ]);
    const pause = await api.inject({
      method: 'POST',
      url: '/v1/apps/hello/pause',
      headers: auth,
      payload: { force: true },
    });
    expect(pause.statusCode).toBe(400);
    expect(pause.json()).toMatchObject({
      error: {
        code: 'FERRY_E_USAGE',
        message: 'invalid request: body.force: only abort takes force, got it with pause',
      },
    });
    const notBoolean = await api.inject({
      method: 'POST',
      url: '/v1/apps/hello/abort',
      headers: auth,
      payload: { force: 'yes' },
    });
    expect(notBoolean.statusCode).toBe(400);
    expect(seen).toHaveLength(2);
  });

  it('POST /v1/apps/:app/canary parses the weight as ferry.yaml does, and refuses one outside 1-100%', async () => {
    const seen: unknown[] = [];
    const api = server(
      fakeControl({
        setCanaryWeight: (app, env, weight, actor) => (
          seen.push({ app, env, weight, actor }),
          fakeControl().setCanaryWeight(app, env, weight, actor)
        ),
      }),
    );
    const post = (payload: unknown) =>
      api.inject({ method: 'POST', url: '/v1/apps/hello/canary', headers: auth, payload: payload as object });
    for (const weight of ['30%', 30, ' 30 '])
      expect((await post({ weight, env: 'production' })).statusCode).toBe(200);
    expect((await post({ weight: '100%' })).statusCode).toBe(200);
    expect(seen).toEqual([
      { app: 'hello', env: 'production', weight: 30, actor: 'api' },
      { app: 'hello', env: 'production', weight: 30, actor: 'api' },
      { app: 'hello', env: 'production', weight: 30, actor: 'api' },
      { app: 'hello', env: undefined, weight: 100, actor: 'api' },
    ]);
    const bad: Array<[unknown, RegExp]> = [
      [
        { weight: 0 },
        /^invalid request: body\.weight: expected a percentage of traffic like "10%" \(1-100\), got 0$/,
      ],
      [{ weight: '101%' }, /body\.weight: expected a percentage of traffic/],
      [{ weight: 'half' }, /body\.weight: expected a percentage of traffic/],
      [{}, /body\.weight: expected a percentage of traffic/],
      [{ weight: 30, force: true }, /body: Unrecognized key: "force"/],
    ];
    for (const [payload, message] of bad) {
      const response = await post(payload);
      expect(response.statusCode, JSON.stringify(payload)).toBe(400);
      expect(response.json()).toMatchObject({
        error: { code: 'FERRY_E_USAGE', message: expect.stringMatching(message) },
      });
    }
    expect(seen).toHaveLength(4);
  });

  it('cuts a client off the event stream that reads slower than events come, instead of holding them', async () => {
    const control = fakeControl();
    const api = server(control);
    await api.listen({ host: '127.0.0.1', port: 0 });
    try {
      const { port } = api.server.address() as AddressInfo;
      const response = await new Promise<http.IncomingMessage>((resolve, reject) =>
        http.get(`http://127.0.0.1:${port}/v1/events`, { headers: auth }, resolve).on('error', reject),
      );
      expect(response.statusCode).toBe(200);
      response.pause(); // reads nothing from here on
      const connections = () =>
        new Promise<number>((resolve, reject) =>
          api.server.getConnections((error, count) => (error ? reject(error) : resolve(count))),
        );
      const message = 'x'.repeat(64 * 1024);
      let published = 0;
      // Bounded: far more than the 8 MiB limit plus what the sockets' buffers take.
      while (published < 2000 && (await connections()) > 0) {
        control.events.publish({
          kind: 'router',
          app: null,
          env: null,
          change: 'trouble',
          pid: null,
          message,
        });
        published++;
        await new Promise((resolve) => setImmediate(resolve));
      }
      response.destroy();
      expect(published).toBeLessThan(2000);
    } finally {
      await api.close();
    }
  });
});
