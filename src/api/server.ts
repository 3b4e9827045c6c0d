import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import type { z } from 'zod';
import { FerryError } from '../errors/ferry-error.js';
import type { Logger } from '../lib/logger.js';
import { FERRY_VERSION } from '../lib/version.js';
import { authenticate } from './auth.js';
import type { ControlPlane } from './control-plane.js';
import { clientErrorHandler, errorHandler, frameworkErrors, MAX_PARAM_LENGTH } from './errors.js';
import { answerMethodNotAllowed } from './method-not-allowed.js';
import { openApiDocument } from './openapi.js';
import { API_ROUTES, type ApiRoute, type OperationId } from './routes.js';
import { refuseWhileStarting } from './starting.js';
import type { ApiTls } from './tls.js';
import { streamDeployment, streamEvents, streamLogs } from './streams.js';
import type {
  CommandResponse,
  RolloutResponse,
  ConfigApplyResponse,
  ConfigPlanView,
  DeployResponse,
  DeploymentDetailResponse,
  DeploymentResponse,
  RestartResponse,
  RollbackResponse,
  HealthzResponse,
  JoinTokenCreateResponse,
  ReleaseAddResponse,
} from './types.js';
import { lockBodySchema, locksQuerySchema, unlockBodySchema } from './wire/locks.js';
import { releaseAddBodySchema, releasesQuerySchema } from './wire/releases.js';
import {
  appParamsSchema,
  canaryBodySchema,
  commandBodySchema,
  commandParamsSchema,
  configBodySchema,
  deployBodySchema,
  eventsQuerySchema,
  historyQuerySchema,
  rolloutQuerySchema,
  hostParamsSchema,
  idParamsSchema,
  joinTokenCreateBodySchema,
  logsQuerySchema,
  restartBodySchema,
  rollbackBodySchema,
  statusQuerySchema,
} from './wire/requests.js';
import {
  targetsCommandBodySchema,
  targetsDeployBodySchema,
  targetsParamsSchema,
  targetsReportBodySchema,
} from './wire/targets.js';

const BODY_LIMIT = 64 * 1024;

/** Validates a request part, naming every wrong field: `body.version: expected a string`. */
function parse<T>(schema: z.ZodType<T>, value: unknown, part: string): T {
  const result = schema.safeParse(value ?? {});
  if (result.success) return result.data;
  const problems = result.error.issues.map((i) => `${[part, ...i.path.map(String)].join('.')}: ${i.message}`);
  throw new FerryError('FERRY_E_USAGE', `invalid request: ${problems.join('; ')}`, { problems });
}

type Handler = (request: FastifyRequest, reply: FastifyReply) => unknown;

/**
 * The daemon's HTTP API (JSON, SSE for live progress); HTTPS when given a certificate and key (see
 * loadApiTls). Every route but /healthz needs the token. The routes are those of API_ROUTES, each
 * with its handler here, so the OpenAPI document lists exactly what is served.
 */
export function createApiServer(opts: {
  control: ControlPlane;
  token: string;
  logger: Logger;
  /** False while the daemon starts: routes answer 503 FERRY_E_DAEMON_STARTING. Default: ready. */
  isReady?: () => boolean;
  https?: ApiTls | null;
  /** The version the OpenAPI document names. */
  version?: string;
}): FastifyInstance {
  const { control } = opts;
  const isReady = opts.isReady ?? (() => true);
  const settings = {
    bodyLimit: BODY_LIMIT,
    logger: false,
    forceCloseConnections: true,
    routerOptions: { maxParamLength: MAX_PARAM_LENGTH },
    // What fails before routing or before there is a request answers Ferry's envelope too.
    frameworkErrors,
    clientErrorHandler,
  } as const;
  // Same routes either way; only the server under them differs.
  const app = opts.https
    ? (Fastify({ ...settings, https: opts.https }) as unknown as FastifyInstance)
    : Fastify(settings);
  app.addHook('onRequest', authenticate(opts.token));
  app.addHook('onRequest', refuseWhileStarting(isReady));
  app.setErrorHandler(errorHandler(opts.logger));
  // Bodies are JSON: text/plain (which Fastify parses by default) is 415 like any other type.
  app.removeContentTypeParser('text/plain');
  app.setNotFoundHandler((request) => {
    const path = request.url.split('?')[0] ?? '';
    const shown = path.length > 200 ? `${path.slice(0, 200)}…` : path;
    throw new FerryError('FERRY_E_ROUTE_UNKNOWN', `no route ${request.method} ${shown}`, {
      got: `${request.method} ${shown}`,
    });
  });
  const answerOtherMethods = answerMethodNotAllowed(app);
  const actor = 'api';

  const handlers: Record<OperationId, Handler> = {
    healthz: (_request, reply): HealthzResponse | FastifyReply =>
      isReady() ? { ok: true, state: 'running' } : reply.status(503).send({ ok: false, state: 'starting' }),

    status: (request) => control.status(parse(statusQuerySchema, request.query, 'query')),

    deploy: async (request, reply): Promise<DeployResponse> => {
      const body = parse(deployBodySchema, request.body, 'body');
      const answer = await control.deploy(body, actor);
      void reply.status(202);
      return answer;
    },

    rollback: async (request, reply): Promise<RollbackResponse> => {
      const body = parse(rollbackBodySchema, request.body, 'body');
      const answer = await control.rollback(body, actor);
      void reply.status(202);
      return answer;
    },

    canary: async (request): Promise<DeploymentResponse> => {
      const { app: name } = parse(appParamsSchema, request.params, 'path');
      const body = parse(canaryBodySchema, request.body, 'body');
      return { deployment: await control.setCanaryWeight(name, body.env, body.weight, actor) };
    },

    restart: async (request, reply): Promise<RestartResponse> => {
      const { app: name } = parse(appParamsSchema, request.params, 'path');
      const body = parse(restartBodySchema, request.body, 'body');
      const started = await control.restart(name, body.env, actor);
      void reply.status(202);
      return started;
    },

    // The body carries the configuration's text (its secrets included): neither it nor any value of
    // it is logged or answered; the plan names fields by their paths only.
    configPlan: (request): Promise<ConfigPlanView> => {
      const body = parse(configBodySchema, request.body, 'body');
      if (body.expect !== undefined)
        throw new FerryError('FERRY_E_USAGE', 'invalid request: body.expect: only apply takes expect', {
          expected: 'no expect',
          got: 'expect',
        });
      return control.planConfig(body);
    },

    configApply: (request): Promise<ConfigApplyResponse> => {
      const body = parse(configBodySchema, request.body, 'body');
      return control.applyConfig(body, actor);
    },

    command: async (request): Promise<CommandResponse> => {
      const params = parse(commandParamsSchema, request.params, 'path');
      const body = parse(commandBodySchema, request.body, 'body');
      if (body.force !== undefined && params.command !== 'abort')
        throw new FerryError(
          'FERRY_E_USAGE',
          `invalid request: body.force: only abort takes force, got it with ${params.command}`,
          { expected: 'abort', got: params.command },
        );
      const options = {
        ...(body.force !== undefined ? { force: body.force } : {}),
        ...(body.host !== undefined ? { host: body.host } : {}),
      };
      return control.command(params.app, body.env, params.command, actor, options);
    },

    deployment: async (request): Promise<DeploymentDetailResponse> => {
      const { id } = parse(idParamsSchema, request.params, 'path');
      return { deployment: await control.deployment(id), events: await control.deploymentEvents(id) };
    },

    deploymentEvents: async (request, reply) => {
      const { id } = parse(idParamsSchema, request.params, 'path');
      await control.deployment(id);
      return streamDeployment(control, id, request, reply);
    },

    events: (request, reply) => {
      const query = parse(eventsQuerySchema, request.query, 'query');
      const filter = { ...(query.app ? { app: query.app } : {}), ...(query.env ? { env: query.env } : {}) };
      control.checkEventFilter(filter);
      streamEvents(control, filter, request, reply);
      return reply;
    },

    lock: (request) => control.lock(parse(lockBodySchema, request.body, 'body'), actor),
    unlock: (request) => control.unlock(parse(unlockBodySchema, request.body, 'body'), actor),
    locks: (request) => control.locks(parse(locksQuerySchema, request.query, 'query')),

    hosts: () => control.hosts(),

    revokeHost: (request) => {
      const { host } = parse(hostParamsSchema, request.params, 'path');
      return control.revokeHost(host, actor);
    },

    // The answer carries the new token: it is neither logged nor kept, only sent.
    createJoinToken: async (request, reply): Promise<JoinTokenCreateResponse> => {
      const body = parse(joinTokenCreateBodySchema, request.body, 'body');
      const created = await control.createJoinToken(body, actor);
      void reply.status(201);
      return created;
    },

    joinTokens: () => control.joinTokens(),

    revokeJoinToken: (request) => {
      const { id } = parse(idParamsSchema, request.params, 'path');
      return control.revokeJoinToken(id, actor);
    },

    rollout: async (request): Promise<RolloutResponse> => {
      const { app: name } = parse(appParamsSchema, request.params, 'path');
      const query = parse(rolloutQuerySchema, request.query, 'query');
      return { rollout: await control.rollout(name, query.env) };
    },

    history: (request) => {
      const { app: name } = parse(appParamsSchema, request.params, 'path');
      const query = parse(historyQuerySchema, request.query, 'query');
      return control.history(name, query.env, query.limit);
    },

    addRelease: async (request, reply): Promise<ReleaseAddResponse> => {
      const { app: name } = parse(appParamsSchema, request.params, 'path');
      const body = parse(releaseAddBodySchema, request.body, 'body');
      const added = await control.addRelease(name, body, actor);
      void reply.status(201);
      return added;
    },

    releases: (request) => {
      const { app: name } = parse(appParamsSchema, request.params, 'path');
      const query = parse(releasesQuerySchema, request.query, 'query');
      return control.releases(name, query.limit);
    },

    logs: async (request, reply) => {
      const { app: name } = parse(appParamsSchema, request.params, 'path');
      const query = parse(logsQuerySchema, request.query, 'query');
      if (query.follow === '1' || query.follow === 'true')
        return streamLogs(control, name, query.env, query.lines, request, reply);
      return control.logs(name, query.env, query.lines);
    },

    targetsReport: (request) => {
      const { namespace, entity } = parse(targetsParamsSchema, request.params, 'path');
      return control.targets.report(namespace, entity, parse(targetsReportBodySchema, request.body, 'body'));
    },

    targetsDeploy: async (request, reply) => {
      const { namespace, entity } = parse(targetsParamsSchema, request.params, 'path');
      const body = parse(targetsDeployBodySchema, request.body, 'body');
      const answer = await control.targets.deploy(namespace, entity, body, actor);
      void reply.status(202);
      return answer;
    },

    targetsCommand: (request) => {
      const { namespace, entity } = parse(targetsParamsSchema, request.params, 'path');
      const { command } = parse(targetsCommandBodySchema, request.body, 'body');
      return control.targets.command(namespace, entity, command, actor);
    },

    targetsRollout: (request) => {
      const { namespace, entity } = parse(targetsParamsSchema, request.params, 'path');
      return control.targets.rollout(namespace, entity);
    },

    targetsList: () => control.targets.list(),

    openapi: () => openApiDocument(opts.version ?? FERRY_VERSION),

    metrics: async (_request, reply) => {
      const { contentType, text } = await control.metrics();
      return reply.type(contentType).send(text);
    },
  };

  for (const [operationId, route] of Object.entries(API_ROUTES) as Array<[OperationId, ApiRoute]>)
    app.route({
      method: route.method,
      url: route.url,
      handler: handlers[operationId],
      ...('bodyLimit' in route ? { bodyLimit: route.bodyLimit } : {}),
    });

  answerOtherMethods();
  return app;
}
