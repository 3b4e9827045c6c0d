import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Validator } from '@seriousme/openapi-schema-validator';
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHarness, type FerryHarness } from '../support/ferry.js';
import { openSse } from '../support/sse.js';
import { waitFor } from '../support/wait.js';

type Json = Record<string, unknown>;
interface Operation {
  readonly method: string;
  readonly path: string;
  readonly responses: Record<string, { content?: Record<string, Json> }>;
}

/** Validates answers against the schemas of an OpenAPI document, and records what was checked. */
class DocumentChecker {
  readonly ajv = new Ajv2020({ strict: false, allErrors: true });
  readonly operations = new Map<string, Operation>();
  /** operationId -> the statuses whose answers were validated. */
  readonly checked = new Map<string, Set<string>>();
  private readonly compiled = new Map<string, ValidateFunction>();

  constructor(readonly document: Json) {
    addFormats.default(this.ajv);
    this.ajv.addSchema({ $id: 'urn:ferry:openapi', components: document.components });
    for (const [route, methods] of Object.entries(document.paths as Record<string, Record<string, Json>>)) {
      for (const [method, operation] of Object.entries(methods)) {
        this.operations.set(operation.operationId as string, {
          method: method.toUpperCase(),
          path: route,
          responses: operation.responses as Operation['responses'],
        });
      }
    }
  }

  operation(operationId: string): Operation {
    const operation = this.operations.get(operationId);
    if (operation === undefined) throw new Error(`no operation ${operationId} in the document`);
    return operation;
  }

  /** The schema the document gives the answer of `status` in `mediaType` (the default answer else). */
  validator(operationId: string, status: number, mediaType: string): ValidateFunction {
    const key = `${operationId} ${status} ${mediaType}`;
    const known = this.compiled.get(key);
    if (known) return known;
    const responses = this.operation(operationId).responses;
    const answer = responses[String(status)] ?? responses.default;
    const media = answer?.content?.[mediaType];
    expect(media, `${key}: documented`).toBeDefined();
    const schema = mediaType === 'text/event-stream' ? media!['x-ferry-event-data'] : media!.schema;
    expect(schema, `${key}: a schema`).toBeDefined();
    // The document's references are relative to its root: point them at it.
    const rooted = JSON.parse(
      JSON.stringify(schema).replaceAll('"#/components/', '"urn:ferry:openapi#/components/'),
    ) as Json;
    const validate = this.ajv.compile(rooted);
    this.compiled.set(key, validate);
    return validate;
  }

  check(operationId: string, status: number, mediaType: string, body: unknown): void {
    const validate = this.validator(operationId, status, mediaType);
    const ok = validate(body);
    expect(
      ok,
      `${operationId} ${status}: ${this.ajv.errorsText(validate.errors)}\n${JSON.stringify(body).slice(0, 2000)}`,
    ).toBe(true);
    if (!this.checked.has(operationId)) this.checked.set(operationId, new Set());
    this.checked.get(operationId)!.add(String(status));
  }
}

/**
 * The OpenAPI document of a real daemon: a valid OpenAPI 3.1 document, and every documented route's
 * real answers (JSON, event streams, errors) valid against it.
 */
describe('the OpenAPI document', () => {
  let ferry: FerryHarness;
  let token: string;
  let doc: DocumentChecker;

  beforeAll(async () => {
    ferry = await createHarness({
      instances: 1,
      canarySteps: '[{ weight: 10%, pause: 10m }, { weight: 50%, pause: 10m }]',
      analysis: '{ max_error_rate: 5%, min_requests: 20, max_wait: 10m }',
    });
    await ferry.start();
    token = readFileSync(path.join(ferry.home, 'api-token'), 'utf8').trim();
  });

  afterAll(async () => {
    await ferry?.cleanup();
  });

  const base = () => `http://127.0.0.1:${ferry.apiPort}`;
  const auth = () => ({ authorization: `Bearer ${token}` });

  /** Calls a documented operation by its id and validates the JSON answer against the document. */
  const call = async (
    operationId: string,
    opts: { params?: Record<string, string>; query?: string; body?: unknown; token?: boolean } = {},
  ): Promise<{ status: number; body: Json }> => {
    const operation = doc.operation(operationId);
    const url = operation.path.replace(/\{(\w+)\}/g, (_, name: string) =>
      encodeURIComponent(opts.params?.[name] ?? ''),
    );
    const response = await fetch(`${base()}${url}${opts.query ?? ''}`, {
      method: operation.method,
      headers: {
        ...(opts.token === false ? {} : auth()),
        ...(opts.body !== undefined ? { 'content-type': 'application/json' } : {}),
      },
      ...(opts.body !== undefined ? { body: JSON.stringify(opts.body) } : {}),
    });
    expect(response.headers.get('content-type')).toContain('application/json');
    const body = (await response.json()) as Json;
    doc.check(operationId, response.status, 'application/json', body);
    return { status: response.status, body };
  };

  /** Reads an operation's event stream until `done` says so, validating every event's data. */
  const stream = async (
    operationId: string,
    opts: { params?: Record<string, string>; query?: string },
    done: (events: Json[]) => boolean,
  ): Promise<Json[]> => {
    const operation = doc.operation(operationId);
    const url = operation.path.replace(/\{(\w+)\}/g, (_, name: string) => opts.params?.[name] ?? '');
    const connection = await openSse<Json>(`${base()}${url}${opts.query ?? ''}`, auth());
    if (!('events' in connection)) throw new Error(`${operationId}: ${JSON.stringify(connection)}`);
    try {
      expect(connection.headers['content-type']).toBe('text/event-stream');
      await waitFor(`${operationId}'s events`, () => done(connection.events.map((e) => e.data)), 60_000);
      for (const event of connection.events) doc.check(operationId, 200, 'text/event-stream', event.data);
      return connection.events.map((e) => e.data);
    } finally {
      connection.close();
    }
  };

  it('is served with the token, as a valid OpenAPI 3.1 document', async () => {
    expect((await fetch(`${base()}/v1/openapi.json`)).status).toBe(401);
    const response = await fetch(`${base()}/v1/openapi.json`, { headers: auth() });
    expect(response.status).toBe(200);
    const document = (await response.json()) as Json;
    const result = await new Validator().validate(document);
    expect(result.errors ?? [], JSON.stringify(result.errors)).toEqual([]);
    expect(result.valid).toBe(true);
    expect(document).toMatchObject({ openapi: '3.1.0', info: { title: 'Ferry API' } });
    doc = new DocumentChecker(document);
    doc.check('openapi', 200, 'application/json', document);
  });

  it("every documented route's real answers are valid against it", async () => {
    // Reads.
    const healthz = await fetch(`${base()}/healthz`);
    doc.check('healthz', healthz.status, 'application/json', await healthz.json());
    await call('status');
    await call('status', { query: '?app=hello&env=production' });
    await call('history', { params: { app: 'hello' }, query: '?limit=5' });
    await call('hosts');
    await call('logs', { params: { app: 'hello' }, query: '?lines=5' });
    await stream(
      'logs',
      { params: { app: 'hello' }, query: '?lines=5&follow=1' },
      (lines) => lines.length > 0,
    );
    const metrics = await fetch(`${base()}/metrics`, { headers: auth() });
    expect(metrics.status).toBe(200);
    expect(metrics.headers.get('content-type')).toContain('text/plain; version=0.0.4');
    expect(doc.operation('metrics').responses['200']!.content!['text/plain; version=0.0.4']).toBeDefined();
    doc.checked.set('metrics', new Set(['200']));

    // The global stream, open while a canary is steered and aborted.
    const events = stream('events', { query: '?app=hello' }, (seen) =>
      seen.some((e) => e.kind === 'deployment' && (e.deployment as Json).status === 'aborted'),
    );
    // Awaited below; a failure before then is the test's, not an unhandled rejection.
    events.catch(() => undefined);
    const started = await call('deploy', { body: { app: 'hello', version: '1.1.0', strategy: 'canary' } });
    expect(started.status).toBe(202);
    const id = (started.body.deployment as Json).id as string;
    await waitFor('the canary step', async () => {
      const { body } = await call('deployment', { params: { id } });
      return (body.deployment as Json).phase === 'shifting';
    });
    await call('status', { query: '?app=hello' }); // with its live canary counters
    expect((await call('canary', { params: { app: 'hello' }, body: { weight: '50%' } })).status).toBe(200);
    expect((await call('command', { params: { app: 'hello', command: 'pause' }, body: {} })).status).toBe(
      200,
    );
    expect((await call('command', { params: { app: 'hello', command: 'resume' }, body: {} })).status).toBe(
      200,
    );
    expect((await call('command', { params: { app: 'hello', command: 'abort' }, body: {} })).status).toBe(
      200,
    );
    await stream('deploymentEvents', { params: { id } }, (seen) =>
      seen.some((e) => e.kind === 'state' && (e.deployment as Json).status === 'aborted'),
    );
    await events;
    await call('history', { params: { app: 'hello' } }); // with an aborted deployment

    // A rollback needs a release to go back to: 1.1.0 blue-green first.
    const blueGreen = await call('deploy', { body: { app: 'hello', version: '1.1.0' } });
    await stream(
      'deploymentEvents',
      { params: { id: (blueGreen.body.deployment as Json).id as string } },
      (seen) => seen.some((e) => e.kind === 'state' && (e.deployment as Json).status === 'succeeded'),
    );
    const rollback = await call('rollback', { body: { app: 'hello' } });
    expect(rollback.status).toBe(202);
    await stream(
      'deploymentEvents',
      { params: { id: (rollback.body.deployment as Json).id as string } },
      (seen) => seen.some((e) => e.kind === 'state' && (e.deployment as Json).status === 'succeeded'),
    );

    // A restart: a deployment of kind restart, its batches in `replace`, the replacing phase.
    const restart = await call('restart', { params: { app: 'hello' }, body: {} });
    expect(restart.status).toBe(202);
    expect(restart.body.deployment).toMatchObject({ kind: 'restart' });
    const restartStates = await stream(
      'deploymentEvents',
      { params: { id: (restart.body.deployment as Json).id as string } },
      (seen) => seen.some((e) => e.kind === 'state' && (e.deployment as Json).status === 'succeeded'),
    );
    expect(
      restartStates.some((e) => e.kind === 'state' && (e.deployment as Json).phase === 'replacing'),
    ).toBe(true);

    // The configuration: the daemon's own file planned, then the same text applied (no changes).
    const plan = await call('configPlan', { body: {} });
    expect(plan.status).toBe(200);
    const text = readFileSync(ferry.configPath, 'utf8');
    const applied = await call('configApply', {
      body: { config: text, path: ferry.configPath, expect: plan.body.id },
    });
    expect(applied.status).toBe(200);
    expect(applied.body).toMatchObject({ deployments: [] });
    expect((await call('configApply', { body: { expect: 'not-the-plan' } })).status).toBe(409);

    // Join tokens: created (the token in that answer only), listed, revoked.
    const created = await call('createJoinToken', { body: { ttl: '1h', uses: 2, labels: { role: 'web' } } });
    expect(created.status).toBe(201);
    const joinTokenId = (created.body.joinToken as Json).id as string;
    expect((await call('joinTokens')).body.joinTokens).toEqual([created.body.joinToken]);
    expect((await call('revokeJoinToken', { params: { id: joinTokenId } })).status).toBe(200);
    expect((await call('revokeJoinToken', { params: { id: joinTokenId } })).status).toBe(404);
    expect((await call('createJoinToken', { body: { ttl: '400d' } })).status).toBe(400);
    // No host is enrolled here (ferry up serves no agents' enrollment yet): the documented error.
    // Revoking an enrolled host is checked in process (src/daemon/trust-part.test.ts).
    expect((await call('revokeHost', { params: { host: 'web-1' } })).status).toBe(404);

    // A lock: listed, shown in status, refusing a deploy (423), which is queued behind it and
    // starts once it is released.
    const lock = await call('lock', { body: { env: 'production', reason: 'release freeze', ttl: '1h' } });
    expect(lock.status).toBe(200);
    expect((await call('deploy', { body: { app: 'hello', version: '1.1.0' } })).status).toBe(423);
    const queued = await call('deploy', { body: { app: 'hello', version: '1.1.0', queue: true } });
    expect(queued.status).toBe(202);
    expect(queued.body).toMatchObject({ queued: { version: '1.1.0' } });
    await call('locks', { query: '?env=production' });
    await call('status', { query: '?app=hello' }); // with its lock and its queued deploy
    expect((await call('unlock', { body: { env: 'production' } })).status).toBe(200);
    expect((await call('unlock', { body: { env: 'production' } })).status).toBe(404);
    await waitFor('the queued deploy to succeed', async () => {
      const { body } = await call('status', { query: '?app=hello' });
      const [app] = body.apps as Json[];
      const deployment = app?.deployment as Json | undefined;
      return deployment?.to === '1.1.0' && deployment.status === 'succeeded';
    });

    // A release recorded by hand (not deployed), listed with its status per environment; a bad one.
    const added = await call('addRelease', {
      params: { app: 'hello' },
      body: { version: '1.1.0-manual', changelog: 'by hand', deploy: false },
    });
    expect(added.status).toBe(201);
    expect((await call('addRelease', { params: { app: 'hello' }, body: { version: '../x' } })).status).toBe(
      400,
    );
    const releases = await call('releases', { params: { app: 'hello' }, query: '?limit=5' });
    expect(releases.status).toBe(200);
    expect((await call('releases', { params: { app: 'nope' } })).status).toBe(404);

    // Targets outside Ferry: a report creates the entity; a deploy, a command, the reads.
    const entity = { namespace: 'prod', entity: 'web' };
    const reported = await call('targetsReport', {
      params: entity,
      body: {
        targets: [
          { name: 'a', version: 'v1', labels: { zone: 'a' } },
          { name: 'b', isError: true },
        ],
      },
    });
    expect(reported.status).toBe(200);
    const deployed = await call('targetsDeploy', {
      params: entity,
      body: { version: 'v2', options: { soakMs: '1m', batch: '50%' } },
    });
    expect(deployed.status).toBe(202);
    expect(
      (await call('targetsReport', { params: entity, body: { targets: [{ name: 'a', version: 'v2' }] } }))
        .status,
    ).toBe(200);
    expect((await call('targetsCommand', { params: entity, body: { command: 'pause' } })).status).toBe(200);
    expect((await call('targetsRollout', { params: entity })).body).toMatchObject({
      rollout: { status: 'paused' },
    });
    expect((await call('targetsList')).body).toMatchObject({
      rollouts: [{ namespace: 'prod', entity: 'web' }],
    });
    expect((await call('targetsRollout', { params: { namespace: 'prod', entity: 'nope' } })).status).toBe(
      404,
    );
    expect(
      (await call('targetsDeploy', { params: entity, body: { version: 'v3', options: { batch: 0 } } }))
        .status,
    ).toBe(400);

    // Errors answer the documented envelope.
    expect((await call('status', { token: false })).status).toBe(401);
    expect((await call('deployment', { params: { id: 'd-none' } })).status).toBe(404);
    expect((await call('deploy', { body: { app: 'hello', verison: '1' } })).status).toBe(400);
    expect((await call('deploy', { body: { app: 'hello', version: '1.1.0' } })).status).toBe(409);
    expect((await call('history', { params: { app: 'nope' } })).status).toBe(404);
    // production runs on this host: no rollout across hosts (test/e2e/fleet.test.ts has one).
    expect((await call('rollout', { params: { app: 'hello' } })).status).toBe(404);

    // Every documented operation was called and its answer checked.
    expect([...doc.checked.keys()].sort()).toEqual([...doc.operations.keys()].sort());
    // No agent enrolls in this test: revoking one, and a rollout across hosts, are in fleet.test.ts.
    const withoutSuccessHere = new Set(['revokeHost', 'rollout']);
    for (const [operationId, statuses] of doc.checked)
      if (!withoutSuccessHere.has(operationId))
        expect(
          [...statuses].some((s) => s.startsWith('2')),
          `${operationId}: a success checked`,
        ).toBe(true);
  });
});
