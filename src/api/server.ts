import Fastify, { type FastifyInstance } from 'fastify';
import { z } from 'zod';
import { percent, version } from '../config/fields.js';
import { FerryError } from '../errors/ferry-error.js';
import type { Logger } from '../lib/logger.js';
import { authenticate } from './auth.js';
import type { ControlPlane } from './control-plane.js';
import { errorHandler } from './errors.js';
import { refuseWhileStarting } from './starting.js';
import type { ApiTls } from './tls.js';
import { streamDeployment, streamLogs } from './streams.js';
import {
  COMMANDS,
  type ConfigApplyResponse,
  type ConfigPlanView,
  type DeploymentResponse,
  type DeploymentDetailResponse,
} from './types.js';

const BODY_LIMIT = 64 * 1024;
/** A configuration file sent to plan or apply may be larger than any other request. */
const CONFIG_BODY_LIMIT = 1024 * 1024;

const envQuery = z.strictObject({ env: z.string().min(1).optional() });
const deployBody = z.strictObject({
  app: z.string().min(1),
  env: z.string().min(1).optional(),
  version,
  strategy: z.enum(['blue-green', 'canary', 'all-at-once']).optional(),
  force: z.boolean().optional(),
});
const rollbackBody = z.strictObject({
  app: z.string().min(1),
  env: z.string().min(1).optional(),
  to: version.optional(),
});
const restartBody = z.strictObject({ env: z.string().min(1).optional() }).prefault({});
const configBody = z
  .strictObject({
    config: z.string().optional(),
    path: z.string().startsWith('/', 'expected an absolute path').optional(),
    prune: z.boolean().optional(),
    expect: z.string().min(1).optional(),
  })
  .prefault({});
const canaryBody = z.strictObject({ env: z.string().min(1).optional(), weight: percent });
const commandBody = z
  .strictObject({ env: z.string().min(1).optional(), force: z.boolean().optional() })
  .prefault({});

/** Validates a request part, naming every wrong field: `body.version: expected a string`. */
function parse<T>(schema: z.ZodType<T>, value: unknown, part: string): T {
  const result = schema.safeParse(value ?? {});
  if (result.success) return result.data;
  const problems = result.error.issues.map((i) => `${[part, ...i.path.map(String)].join('.')}: ${i.message}`);
  throw new FerryError('FERRY_E_USAGE', `invalid request: ${problems.join('; ')}`, { problems });
}

/**
 * The daemon's HTTP API (JSON, SSE for live progress); HTTPS when given a certificate and key (see
 * loadApiTls). Every route but /healthz needs the token.
 */
export function createApiServer(opts: {
  control: ControlPlane;
  token: string;
  logger: Logger;
  /** False while the daemon starts: routes answer 503 FERRY_E_DAEMON_STARTING. Default: ready. */
  isReady?: () => boolean;
  https?: ApiTls | null;
}): FastifyInstance {
  const { control } = opts;
  const isReady = opts.isReady ?? (() => true);
  const settings = { bodyLimit: BODY_LIMIT, logger: false, forceCloseConnections: true } as const;
  // Same routes either way; only the server under them differs.
  const app = opts.https
    ? (Fastify({ ...settings, https: opts.https }) as unknown as FastifyInstance)
    : Fastify(settings);
  app.addHook('onRequest', authenticate(opts.token));
  app.addHook('onRequest', refuseWhileStarting(isReady));
  app.setErrorHandler(errorHandler(opts.logger));
  app.setNotFoundHandler((request, reply) =>
    reply.status(404).send({
      error: { code: 'FERRY_E_USAGE', message: `no route ${request.method} ${request.url.split('?')[0]}` },
    }),
  );
  const actor = 'api';

  app.get('/healthz', (_request, reply) =>
    isReady() ? { ok: true, state: 'running' } : reply.status(503).send({ ok: false, state: 'starting' }),
  );

  app.get('/v1/status', (request) => {
    const query = parse(
      z.strictObject({ app: z.string().optional(), env: z.string().optional() }),
      request.query,
      'query',
    );
    return control.status(query);
  });

  app.post('/v1/deployments', async (request, reply): Promise<DeploymentResponse> => {
    const body = parse(deployBody, request.body, 'body');
    const deployment = await control.deploy(body, actor);
    void reply.status(202);
    return { deployment };
  });

  app.post('/v1/rollbacks', async (request, reply): Promise<DeploymentResponse> => {
    const body = parse(rollbackBody, request.body, 'body');
    const deployment = await control.rollback(body, actor);
    void reply.status(202);
    return { deployment };
  });

  app.post('/v1/apps/:app/canary', async (request): Promise<DeploymentResponse> => {
    const { app: name } = parse(z.strictObject({ app: z.string() }), request.params, 'path');
    const body = parse(canaryBody, request.body, 'body');
    return { deployment: await control.setCanaryWeight(name, body.env, body.weight, actor) };
  });

  app.post('/v1/apps/:app/restart', async (request, reply): Promise<DeploymentResponse> => {
    const { app: name } = parse(z.strictObject({ app: z.string() }), request.params, 'path');
    const body = parse(restartBody, request.body, 'body');
    const deployment = await control.restart(name, body.env, actor);
    void reply.status(202);
    return { deployment };
  });

  // The body carries the configuration's text (its secrets included): neither it nor any value of it
  // is logged or answered; the plan names fields by their paths only.
  app.post('/v1/config/plan', { bodyLimit: CONFIG_BODY_LIMIT }, (request): Promise<ConfigPlanView> => {
    const body = parse(configBody, request.body, 'body');
    if (body.expect !== undefined)
      throw new FerryError('FERRY_E_USAGE', 'invalid request: body.expect: only apply takes expect');
    return control.planConfig(body);
  });

  app.post('/v1/config/apply', { bodyLimit: CONFIG_BODY_LIMIT }, (request): Promise<ConfigApplyResponse> => {
    const body = parse(configBody, request.body, 'body');
    return control.applyConfig(body, actor);
  });

  app.post('/v1/apps/:app/:command', async (request): Promise<DeploymentResponse> => {
    const params = parse(
      z.strictObject({ app: z.string(), command: z.enum(COMMANDS) }),
      request.params,
      'path',
    );
    const body = parse(commandBody, request.body, 'body');
    if (body.force !== undefined && params.command !== 'abort')
      throw new FerryError(
        'FERRY_E_USAGE',
        `invalid request: body.force: only abort takes force, got it with ${params.command}`,
        { expected: 'abort', got: params.command },
      );
    const opts = body.force !== undefined ? { force: body.force } : {};
    return { deployment: await control.command(params.app, body.env, params.command, actor, opts) };
  });

  app.get('/v1/deployments/:id', async (request): Promise<DeploymentDetailResponse> => {
    const { id } = parse(z.strictObject({ id: z.string() }), request.params, 'path');
    return { deployment: await control.deployment(id), events: await control.events(id) };
  });

  app.get('/v1/deployments/:id/events', async (request, reply) => {
    const { id } = parse(z.strictObject({ id: z.string() }), request.params, 'path');
    await control.deployment(id);
    return streamDeployment(control, id, request, reply);
  });

  app.get('/v1/apps/:app/history', (request) => {
    const { app: name } = parse(z.strictObject({ app: z.string() }), request.params, 'path');
    const query = parse(
      envQuery.extend({ limit: z.coerce.number().int().min(1).max(1000).default(20) }),
      request.query,
      'query',
    );
    return control.history(name, query.env, query.limit);
  });

  app.get('/v1/apps/:app/logs', async (request, reply) => {
    const { app: name } = parse(z.strictObject({ app: z.string() }), request.params, 'path');
    const query = parse(
      envQuery.extend({
        lines: z.coerce.number().int().min(1).max(10_000).default(100),
        follow: z.enum(['0', '1', 'true', 'false']).optional(),
      }),
      request.query,
      'query',
    );
    if (query.follow === '1' || query.follow === 'true')
      return streamLogs(control, name, query.env, query.lines, request, reply);
    return control.logs(name, query.env, query.lines);
  });

  return app;
}
