import type { AddressInfo } from 'node:net';
import Fastify, { type FastifyInstance } from 'fastify';
import { clientErrorHandler, frameworkErrors } from '../../../api/errors.js';
import { FerryError } from '../../../errors/ferry-error.js';
import { silentLogger } from '../../../lib/logger.js';
import type { AgentAuthenticator } from '../agent-authenticator.js';
import type { HostExchange } from '../host-exchange.js';
import { agentApiRoutes } from '../routes.js';

/** An authenticator that knows a fixed set of credentials (enrollment is src/server/trust/'s). */
export function staticAuthenticator(credentials: ReadonlyMap<string, string>): AgentAuthenticator {
  return {
    authenticate: (credential) => {
      const hostId = credentials.get(credential);
      return hostId === undefined
        ? Promise.reject(
            new FerryError('FERRY_E_UNAUTHORIZED', 'the agent credential is not known or was revoked'),
          )
        : Promise.resolve({ hostId });
    },
  };
}

/**
 * The agent API on its own Fastify on 127.0.0.1 (port 0 unless given: a restart takes the port the
 * last one had), with the settings the API's server has.
 */
export async function startAgentServer(opts: {
  exchange: HostExchange;
  authenticator: AgentAuthenticator;
  port?: number;
}): Promise<{ app: FastifyInstance; port: number; url: string }> {
  const settings = {
    logger: false,
    forceCloseConnections: true,
    frameworkErrors,
    clientErrorHandler,
  } as const;
  const app = Fastify(settings);
  await app.register(agentApiRoutes, {
    exchange: opts.exchange,
    authenticator: opts.authenticator,
    logger: silentLogger(),
  });
  await app.listen({ host: '127.0.0.1', port: opts.port ?? 0 });
  const port = (app.server.address() as AddressInfo).port;
  return { app, port, url: `http://127.0.0.1:${port}` };
}
