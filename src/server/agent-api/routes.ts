import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { FerryError } from '../../errors/ferry-error.js';
import type { Logger } from '../../lib/logger.js';
import { messageProblems } from '../../protocol/problems.js';
import { DESIRED_STATE_PATH, MAX_REPORT_BYTES, REPORT_PATH } from '../../protocol/transport.js';
import { errorHandler } from '../../api/errors.js';
import { agentCredential, type AgentAuthenticator } from './agent-authenticator.js';
import type { HostExchange } from './host-exchange.js';

export interface AgentApiOptions {
  readonly exchange: HostExchange;
  readonly authenticator: AgentAuthenticator;
  readonly logger: Logger;
}

const desiredQuerySchema = z.object({
  after: z
    .string()
    .regex(/^\d{1,15}$/, 'expected a revision (a whole number)')
    .transform(Number)
    .optional(),
});

/**
 * The agent API: an agent waits for its host's desired state (long poll) and sends its reports,
 * with its own credential, for its own host only. A Fastify plugin, registered without a prefix by
 * the server that mounts it; its hooks (the agent's authentication) and error handling stay within
 * it. Errors answer Ferry's envelope (src/api/errors.ts).
 */
export function agentApiRoutes(app: FastifyInstance, options: AgentApiOptions): Promise<void> {
  const { exchange, authenticator } = options;
  const hosts = new WeakMap<FastifyRequest, string>();
  const handleError = errorHandler(options.logger);

  app.addHook('onRequest', async (request) => {
    const { hostId } = await authenticator.authenticate(agentCredential(request));
    hosts.set(request, hostId);
  });
  // Reports are JSON only, as every body of the API.
  app.removeContentTypeParser('text/plain');
  app.setErrorHandler((error: FastifyError | Error, request, reply) =>
    handleError(
      (error as FastifyError).code === 'FST_ERR_CTP_BODY_TOO_LARGE'
        ? new FerryError(
            'FERRY_E_BODY_TOO_LARGE',
            `report: expected at most ${MAX_REPORT_BYTES} bytes, got more`,
            {
              expected: `at most ${MAX_REPORT_BYTES} bytes`,
            },
          )
        : error,
      request,
      reply,
    ),
  );

  const hostOf = (request: FastifyRequest): string => {
    const host = hosts.get(request);
    if (host === undefined) throw new FerryError('FERRY_E_INTERNAL', 'internal error; see the server log');
    return host;
  };

  app.get(DESIRED_STATE_PATH, async (request: FastifyRequest, reply: FastifyReply) => {
    const host = hostOf(request);
    const parsed = desiredQuerySchema.safeParse(request.query ?? {});
    if (!parsed.success) {
      const problems = messageProblems(parsed.error, 'query');
      throw new FerryError('FERRY_E_USAGE', `invalid request: ${problems.join('; ')}`, { problems });
    }
    // The agent going away ends its wait (and the store watch it held, when it was the last one).
    const gone = new AbortController();
    const onClose = (): void => gone.abort(new Error('the agent closed the request'));
    reply.raw.once('close', onClose);
    try {
      const doc = await exchange.nextDesired(
        host,
        parsed.data.after ?? 0,
        { address: request.ip },
        gone.signal,
      );
      void reply.header('cache-control', 'no-store');
      if (doc === null) return reply.status(204).send();
      return doc;
    } finally {
      reply.raw.off('close', onClose);
    }
  });

  app.post(REPORT_PATH, { bodyLimit: MAX_REPORT_BYTES }, (request: FastifyRequest, reply: FastifyReply) => {
    // Fastify already refused a larger body (chunked ones included); this is what was declared.
    const bytes = Number(request.headers['content-length'] ?? 0);
    exchange.receiveReport(hostOf(request), request.body, { address: request.ip, bytes });
    return reply.status(204).send();
  });
  return Promise.resolve();
}
