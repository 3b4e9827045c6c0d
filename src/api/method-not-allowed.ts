import type { FastifyInstance } from 'fastify';
import { FerryError } from '../errors/ferry-error.js';

const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS'] as const;

/**
 * A known path asked with a method it does not take is 405 with an Allow header, not "no route".
 * Call before the routes are added (it records their methods); call what it returns after them
 * (it answers the other methods of each path).
 */
export function answerMethodNotAllowed(app: FastifyInstance): () => void {
  const methods = new Map<string, Set<string>>();
  app.addHook('onRoute', (route) => {
    const allowed = methods.get(route.url) ?? new Set<string>();
    for (const method of [route.method].flat()) allowed.add(method);
    // Fastify answers HEAD for every GET route by itself.
    if (allowed.has('GET')) allowed.add('HEAD');
    methods.set(route.url, allowed);
  });
  return () => {
    for (const [url, allowed] of [...methods]) {
      const others = METHODS.filter((method) => !allowed.has(method));
      if (others.length === 0) continue;
      const allow = METHODS.filter((method) => allowed.has(method)).join(', ');
      app.route({
        method: others,
        url,
        handler: (request, reply) => {
          void reply.header('allow', allow);
          throw new FerryError(
            'FERRY_E_METHOD_NOT_ALLOWED',
            `${url}: expected a method of ${allow}, got ${request.method}`,
            { where: url, expected: allow, got: request.method },
          );
        },
      });
    }
  };
}
