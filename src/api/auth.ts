import { timingSafeEqual } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import { FerryError } from '../errors/ferry-error.js';

/** Every route but GET /healthz needs `Authorization: Bearer <token>`. */
export function authenticate(token: string) {
  const expected = Buffer.from(token);
  return (request: FastifyRequest): Promise<void> => {
    if (request.routeOptions.url === '/healthz') return Promise.resolve();
    const header = request.headers.authorization ?? '';
    const given = Buffer.from(header.startsWith('Bearer ') ? header.slice('Bearer '.length) : '');
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
      throw new FerryError(
        'FERRY_E_UNAUTHORIZED',
        header ? 'the API token is wrong' : 'the API needs a token: Authorization: Bearer <token>',
      );
    }
    return Promise.resolve();
  };
}
