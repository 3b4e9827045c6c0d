import type { FastifyInstance, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { errorHandler } from '../../api/errors.js';
import { FerryError } from '../../errors/ferry-error.js';
import type { Logger } from '../../lib/logger.js';
import { messageProblems } from '../../protocol/problems.js';
import { ENROLL_PATH } from '../../protocol/transport.js';
import type { Trust } from '../trust/trust.js';
import { agentCredential } from './agent-authenticator.js';

export interface EnrollRoutesOptions {
  readonly trust: Pick<Trust, 'enroll'>;
  readonly logger: Logger;
}

const enrollBodySchema = z.object({ name: z.unknown(), labels: z.unknown().optional() });

/** The largest enrollment request: a name and 64 labels. */
const ENROLL_BODY_BYTES = 16 * 1024;

/**
 * Enrollment: an agent presents a join token (as its bearer credential) with the name and labels
 * it asks for, and gets its own credential back, once. A plugin of its own: the agent API's
 * credential check does not apply to it. The token never appears in a log or an error.
 */
export function enrollRoutes(app: FastifyInstance, options: EnrollRoutesOptions): Promise<void> {
  app.setErrorHandler(errorHandler(options.logger));
  app.removeContentTypeParser('text/plain');
  app.post(ENROLL_PATH, { bodyLimit: ENROLL_BODY_BYTES }, async (request: FastifyRequest) => {
    const joinToken = agentCredential(request);
    const parsed = enrollBodySchema.safeParse(request.body ?? {});
    if (!parsed.success) {
      const problems = messageProblems(parsed.error, 'body');
      throw new FerryError('FERRY_E_USAGE', `invalid request: ${problems.join('; ')}`, { problems });
    }
    const enrollment = await options.trust.enroll(joinToken, {
      name: parsed.data.name,
      labels: parsed.data.labels,
    });
    options.logger.info(
      { host: enrollment.host.id, name: enrollment.host.name, from: request.ip },
      'a host enrolled',
    );
    return enrollment;
  });
  return Promise.resolve();
}
