import { createHash } from 'node:crypto';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { clientErrorHandler, errorBody, frameworkErrors, MAX_PARAM_LENGTH } from '../api/errors.js';
import type { AppConfig, ConfigSource } from '../config/types.js';
import type { TriggersConfig } from '../config/trigger-settings.js';
import { FerryError, isFerryError, messageOf } from '../errors/ferry-error.js';
import type { Clock } from '../lib/clock.js';
import type { Logger } from '../lib/logger.js';
import type { AuditEntry } from '../store/store.js';
import { answerRegistryCallback, type RegistryCallback } from './callback.js';
import type { IntakeOutcome, ReleaseCandidate } from '../releases/release.js';
import { DeliveryLog, memoryDeliveries, type DeliveryRecorder } from './delivery-log.js';
import {
  githubRepository,
  parseGeneric,
  parseGithubPush,
  parseGithubRelease,
  parseGithubWorkflowRun,
  parseJson,
  parseRegistryPush,
  registryVersion,
  type ReleaseRequest,
} from './payloads.js';
import { RateLimit } from './rate-limit.js';
import { isSameToken, isValidSignature } from './signature.js';

/** What the webhook listener needs from the daemon. */
export interface TriggersDeps {
  readonly settings: TriggersConfig;
  /** The apps' triggers are read at each delivery: `ferry apply` changes them. */
  readonly config: ConfigSource;
  /** The release intake (ReleaseIntake.offer): the catalog, the policies, then `ferry deploy`'s path. */
  readonly offer: (candidate: ReleaseCandidate) => Promise<readonly IntakeOutcome[]>;
  /**
   * Polls the app's release watchers now (ReleaseSources.pollNow): a GitHub release event of a
   * repository the app watches wakes its watcher, which takes the asset and its checksum, instead of
   * deploying the tag through the app's artifact template.
   */
  readonly pollSources?: (app: string) => Promise<void>;
  /** Where delivery ids are kept (the KV store in the daemon); default: in memory only. */
  readonly deliveries?: (memory: DeliveryLog) => DeliveryRecorder;
  readonly audit: (entry: AuditEntry) => Promise<void>;
  readonly clock: Clock;
  readonly logger: Logger;
  /** Answers Docker Hub's callback_url (answerRegistryCallback; a fake in tests). */
  readonly answerCallback?: (url: string, body: RegistryCallback) => Promise<void>;
}

type Source = 'generic' | 'github' | 'registry';

/** What one delivery is known to be as it is handled: for the audit log, never a secret. */
interface Delivery {
  readonly source: Source;
  id: string | null;
  app: string | null;
}

const DELIVERY_ID = /^[A-Za-z0-9._:-]{1,128}$/;
/** Ids are kept a day: GitHub redelivers by hand from its settings page long after the timestamp window. */
export const DELIVERY_RETAIN_MS = 24 * 60 * 60 * 1000;

declare module 'fastify' {
  interface FastifyRequest {
    ferryDelivery?: Delivery;
  }
}

/**
 * The webhook listener's routes (docs/triggers.md): GitHub, a registry (Docker Hub) and Ferry's
 * own signed JSON. Every delivery is authenticated by its source's secret before it changes
 * anything; every refusal and every deploy it starts is written to the audit log.
 */
export function createTriggersServer(deps: TriggersDeps): FastifyInstance {
  const { settings, clock, logger } = deps;
  const memory = new DeliveryLog({ clock, retainMs: DELIVERY_RETAIN_MS, maxEntries: 50_000 });
  const deliveries = deps.deliveries?.(memory) ?? memoryDeliveries(memory);
  const limit = new RateLimit({
    clock,
    requests: settings.rateLimit.requests,
    perMs: settings.rateLimit.perMs,
  });
  const fastifySettings = {
    logger: false,
    forceCloseConnections: true,
    bodyLimit: settings.maxBodyBytes,
    routerOptions: { maxParamLength: MAX_PARAM_LENGTH },
    // What fails before routing answers Ferry's envelope too.
    frameworkErrors,
    clientErrorHandler,
  } as const;
  const app = Fastify(fastifySettings) as unknown as FastifyInstance;
  // Signatures are over the raw bytes: the body is kept as received and parsed after they are checked.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (_request, body, done) => done(null, body));

  const audit = async (request: FastifyRequest, action: string, detail: Record<string, unknown>) => {
    const delivery = request.ferryDelivery;
    const source = delivery?.source ?? 'unknown';
    try {
      await deps.audit({
        at: clock.now(),
        actor: `webhook:${source}:${delivery?.id ?? '-'}`,
        action,
        target: delivery?.app ? `app/${delivery.app}` : `webhook/${source}`,
        detail: { ip: request.ip, ...detail },
      });
    } catch (error) {
      logger.error({ err: messageOf(error), action }, 'webhook audit failed');
    }
  };

  app.setErrorHandler(async (error: Error & { code?: string }, request, reply) => {
    const ferry = toFerryError(error, settings.maxBodyBytes);
    if (ferry.code === 'FERRY_E_INTERNAL')
      logger.error({ err: error, url: request.url }, 'webhook internal error');
    await audit(request, 'webhook-refused', { code: ferry.code, message: ferry.message });
    logger.warn(
      { code: ferry.code, ip: request.ip, source: request.ferryDelivery?.source },
      'webhook refused',
    );
    return reply.status(ferry.httpStatus).send(errorBody(ferry));
  });
  app.setNotFoundHandler(async (request, reply) => {
    const ferry = new FerryError(
      'FERRY_E_ROUTE_UNKNOWN',
      `no webhook at ${request.method} ${request.url.split('?')[0]}`,
    );
    await audit(request, 'webhook-refused', { code: ferry.code });
    return reply.status(404).send(errorBody(ferry));
  });
  // The limit is taken before the body is read: a flood is refused cheaply.
  app.addHook('onRequest', (request, _reply, done) => {
    const source = request.url.split('/')[2];
    request.ferryDelivery = {
      source: source === 'github' || source === 'registry' ? source : 'generic',
      id: null,
      app: null,
    };
    if (limit.take(request.ip)) {
      done();
      return;
    }
    done(
      new FerryError(
        'FERRY_E_RATE_LIMITED',
        `too many webhook deliveries from ${request.ip}; try again later`,
        {
          expected: `at most ${settings.rateLimit.requests} per ${settings.rateLimit.perMs / 1000}s`,
        },
      ),
    );
  });

  const bodyOf = (request: FastifyRequest): Buffer =>
    Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
  const header = (request: FastifyRequest, name: string): string | undefined => {
    const value = request.headers[name];
    return typeof value === 'string' ? value : undefined;
  };
  const deliveryId = (request: FastifyRequest, name: string): string => {
    const id = header(request, name);
    if (id === undefined || !DELIVERY_ID.test(id))
      throw new FerryError(
        'FERRY_E_WEBHOOK_PAYLOAD',
        `webhook: expected a ${name} header (letters, digits, . _ : -), got ${id === undefined ? 'none' : 'another'}`,
      );
    return id;
  };
  const recordDelivery = async (delivery: Delivery, id: string): Promise<void> => {
    delivery.id = id;
    if (!(await deliveries.record(delivery.source, id)))
      throw new FerryError(
        'FERRY_E_WEBHOOK_REPLAY',
        `webhook: delivery ${id} was received before; it is not deployed twice`,
        {
          delivery: id,
        },
      );
  };
  const appOf = (name: string, source: Source): AppConfig => {
    const config = deps.config.current;
    const found = Object.hasOwn(config.apps, name) ? config.apps[name] : undefined;
    if (found === undefined || found.triggers[source] === null)
      throw new FerryError(
        'FERRY_E_APP_UNKNOWN',
        `no app "${name}" takes ${source} webhooks (apps.<app>.triggers.${source})`,
        {
          app: name,
        },
      );
    return found;
  };
  /**
   * Offers the release to the intake (which deploys it where the app's policies allow); a refusal
   * (an unknown environment, a conflicting artifact) lets the sender retry the delivery.
   */
  const offer = async (
    request: FastifyRequest,
    app: AppConfig,
    release: ReleaseRequest,
    triggerEnv: string | null,
  ) => {
    const delivery = request.ferryDelivery!;
    const env = release.env ?? triggerEnv;
    const actor = `webhook:${delivery.source}:${delivery.id ?? '-'}`;
    let outcomes: readonly IntakeOutcome[];
    try {
      outcomes = await deps.offer({
        app: app.name,
        version: release.version,
        artifact: release.artifact ?? null,
        changelog: release.changelog ?? null,
        publishedAt: release.publishedAt ?? null,
        env,
        trigger: { kind: 'webhook', actor },
      });
    } catch (error) {
      if (delivery.id !== null) await deliveries.forget(delivery.source, delivery.id);
      throw error;
    }
    await audit(request, 'webhook-deploy', {
      version: release.version,
      env,
      ...release.detail,
      outcomes: outcomes.map((o) => `${o.env}: ${o.action}`),
    });
    logger.info({ app: app.name, env, version: release.version, actor }, 'webhook offers a release');
    return { accepted: true, app: app.name, env, version: release.version, outcomes };
  };

  app.post<{ Params: { app: string } }>('/hooks/generic/:app', async (request, reply) => {
    const delivery = request.ferryDelivery!;
    delivery.app = request.params.app;
    const app = appOf(request.params.app, 'generic');
    const trigger = app.triggers.generic!;
    const body = bodyOf(request);
    const timestamp = header(request, 'x-ferry-timestamp') ?? '';
    if (
      !isValidSignature(
        trigger.secret,
        Buffer.concat([Buffer.from(`${timestamp}.`), body]),
        header(request, 'x-ferry-signature-256'),
      )
    )
      throw new FerryError(
        'FERRY_E_WEBHOOK_SIGNATURE',
        'webhook: expected an X-Ferry-Signature-256 header of sha256=<HMAC-SHA256 of "<timestamp>.<body>"> with the app\'s secret, got none or another',
      );
    const seconds = /^\d{1,12}$/.test(timestamp) ? Number(timestamp) : NaN;
    const skewMs = Math.abs(clock.now() - seconds * 1000);
    if (!(skewMs <= settings.replayWindowMs))
      throw new FerryError(
        'FERRY_E_WEBHOOK_REPLAY',
        `webhook: expected an X-Ferry-Timestamp (unix seconds) within ${settings.replayWindowMs / 1000}s of now, got ${Number.isNaN(seconds) ? 'none' : `one ${Math.round(skewMs / 1000)}s away`}`,
      );
    const release = parseGeneric(parseJson(body), app.name);
    if (release.artifact?.checksum === null && app.artifact.requireChecksum)
      throw new FerryError(
        'FERRY_E_WEBHOOK_PAYLOAD',
        `webhook payload: checksum: expected one with url (apps.${app.name}.artifact requires checksums), got none`,
      );
    await recordDelivery(delivery, deliveryId(request, 'x-ferry-delivery'));
    return reply.status(202).send(await offer(request, app, release, trigger.env));
  });

  app.post('/hooks/github', async (request, reply) => {
    const delivery = request.ferryDelivery!;
    const body = bodyOf(request);
    const payload = parseJson(body);
    const repository = githubRepository(payload).toLowerCase();
    const app = Object.values(deps.config.current.apps).find(
      (a) => a.triggers.github?.repository.toLowerCase() === repository,
    );
    if (app === undefined)
      throw new FerryError(
        'FERRY_E_APP_UNKNOWN',
        `no app takes GitHub webhooks of ${repository} (apps.<app>.triggers.github.repository)`,
      );
    delivery.app = app.name;
    const trigger = app.triggers.github!;
    if (!isValidSignature(trigger.secret, body, header(request, 'x-hub-signature-256')))
      throw new FerryError(
        'FERRY_E_WEBHOOK_SIGNATURE',
        "webhook: expected an X-Hub-Signature-256 header matching the app's GitHub secret, got none or another",
      );
    await recordDelivery(delivery, deliveryId(request, 'x-github-delivery'));
    const event = header(request, 'x-github-event');
    if (event === 'ping') {
      await audit(request, 'webhook-ping', {});
      return reply.status(200).send({ pong: true, app: app.name });
    }
    const taken = trigger.events.find((e) => e === event);
    if (taken === undefined) return ignore(request, reply, `event "${event ?? 'none'}" does not deploy`);
    const outcome =
      taken === 'release'
        ? parseGithubRelease(payload, { prereleases: trigger.prereleases })
        : taken === 'push'
          ? parseGithubPush(payload, { branch: trigger.branch })
          : parseGithubWorkflowRun(payload, { workflow: trigger.workflow, branch: trigger.branch });
    if ('ignored' in outcome) return ignore(request, reply, outcome.ignored);
    const watched = app.sources.github?.repository.toLowerCase() === repository;
    if (taken === 'release' && watched && deps.pollSources !== undefined) {
      // Not awaited: GitHub waits 10 s for an answer, and the watcher's poll may take longer.
      deps
        .pollSources(app.name)
        .catch((error: unknown) =>
          logger.warn({ app: app.name, err: messageOf(error) }, 'the watcher did not poll'),
        );
      await audit(request, 'webhook-polled', { version: outcome.request.version });
      logger.info({ app: app.name, version: outcome.request.version }, 'a GitHub release wakes the watcher');
      return reply.status(202).send({ accepted: true, app: app.name, polled: 'github' });
    }
    return reply.status(202).send(await offer(request, app, { ...outcome.request, env: null }, trigger.env));
  });

  const ignore = async (request: FastifyRequest, reply: FastifyReply, reason: string) => {
    await audit(request, 'webhook-ignored', { reason });
    return reply.status(202).send({ accepted: false, ignored: reason });
  };

  const registry = async (
    request: FastifyRequest<{ Params: { app: string; token?: string } }>,
    reply: FastifyReply,
  ) => {
    const delivery = request.ferryDelivery!;
    delivery.app = request.params.app;
    const app = appOf(request.params.app, 'registry');
    const trigger = app.triggers.registry!;
    if (trigger.token !== null && !isSameToken(trigger.token, request.params.token ?? ''))
      throw new FerryError(
        'FERRY_E_WEBHOOK_SIGNATURE',
        'webhook: expected the token of apps.<app>.triggers.registry as the last path segment, got none or another',
      );
    const push = parseRegistryPush(parseJson(bodyOf(request)));
    if (push.repository !== trigger.repository)
      throw new FerryError(
        'FERRY_E_WEBHOOK_PAYLOAD',
        `webhook payload: expected repository.repo_name ${trigger.repository}, got ${push.repository}`,
      );
    // Docker Hub sends no delivery id: its callback URL is unique to each push.
    if (push.callbackUrl !== null) await recordDelivery(delivery, `push-${hashOf(push.callbackUrl)}`);
    const answer = (state: RegistryCallback['state'], description: string): void => {
      if (push.callbackUrl === null) return;
      const send = deps.answerCallback ?? ((url, b) => answerRegistryCallback(url, b, logger));
      send(push.callbackUrl, { state, description: description.slice(0, 255), context: 'ferry' }).catch(
        () => undefined,
      );
    };
    try {
      const version = registryVersion(push.tag);
      const result = await offer(
        request,
        app,
        { version, env: null, detail: { tag: push.tag } },
        trigger.env,
      );
      answer(
        'success',
        `${app.name} ${version}: ${result.outcomes.map((o) => `${o.action} in ${o.env}`).join(', ') || 'recorded'}`,
      );
      return await reply.status(202).send(result);
    } catch (error) {
      answer(
        isFerryError(error) && error.httpStatus < 500 ? 'failure' : 'error',
        isFerryError(error) ? error.message : 'internal error',
      );
      throw error;
    }
  };
  app.post('/hooks/registry/:app', registry);
  app.post('/hooks/registry/:app/:token', registry);
  return app;
}

/** A short stable id for the audit log in place of the callback URL itself. */
function hashOf(text: string): string {
  return createHash('sha256').update(text).digest('hex').slice(0, 16);
}

function toFerryError(error: Error & { code?: string; statusCode?: number }, maxBody: number): FerryError {
  if (error instanceof FerryError) return error;
  if (error.code === 'FST_ERR_CTP_BODY_TOO_LARGE')
    return new FerryError(
      'FERRY_E_BODY_TOO_LARGE',
      `webhook: expected a body of at most ${maxBody} bytes (triggers.max_body), got more`,
      {
        expected: `at most ${maxBody} bytes`,
      },
    );
  if (error.statusCode !== undefined && error.statusCode >= 400 && error.statusCode < 500)
    return new FerryError('FERRY_E_WEBHOOK_PAYLOAD', `webhook: bad request: ${error.message}`);
  return new FerryError('FERRY_E_INTERNAL', 'internal error; see the daemon log');
}
