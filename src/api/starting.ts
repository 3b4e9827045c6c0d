import type { FastifyRequest } from 'fastify';
import { FerryError } from '../errors/ferry-error.js';

/**
 * The API listens from early in the daemon's start, so that a taken port fails the start before it
 * changed anything. Until the daemon is ready (instances adopted, deployments resumed) every route
 * but /healthz answers 503 FERRY_E_DAEMON_STARTING.
 */
export function refuseWhileStarting(isReady: () => boolean) {
  return (request: FastifyRequest): Promise<void> => {
    if (isReady() || request.routeOptions.url === '/healthz') return Promise.resolve();
    return Promise.reject(
      new FerryError(
        'FERRY_E_DAEMON_STARTING',
        'the daemon is starting (re-adopting instances, resuming deployments); try again in a moment',
      ),
    );
  };
}
