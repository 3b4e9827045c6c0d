import { hostname } from 'node:os';
import Fastify, { type FastifyInstance } from 'fastify';
import { clientErrorHandler, frameworkErrors } from '../api/errors.js';
import type { FerryConfig } from '../config/types.js';
import { FerryError, messageOf } from '../errors/ferry-error.js';
import type { Logger } from '../lib/logger.js';
import { agentApiRoutes } from './agent-api/routes.js';
import { enrollRoutes } from './agent-api/enroll-routes.js';
import type { HostExchange } from './agent-api/host-exchange.js';
import { loadServerTls, type ServerTls } from './trust/server-tls.js';
import type { Trust } from './trust/trust.js';

/** The agents' side of a server, listening. */
export interface AgentsListener {
  /** The URL agents are given (`ferry agent --server`): the listen address, or this host's name for a wildcard. */
  readonly url: string;
  /** What it listens with; `caFingerprint` is what agents pin. */
  readonly tls: ServerTls;
  close(): Promise<void>;
}

/**
 * Where agents on other hosts enroll, wait for their desired state and report: HTTPS always (the
 * operator's certificate, or the server's own CA made on the first start), on an address of its
 * own, apart from the operators' API and its token. Each agent request is authenticated by the
 * agent's own credential, for its own host only.
 */
export async function listenForAgents(opts: {
  readonly settings: NonNullable<FerryConfig['server']>;
  readonly dataDir: string;
  readonly exchange: HostExchange;
  readonly trust: Trust;
  readonly logger: Logger;
}): Promise<AgentsListener> {
  const { settings, logger } = opts;
  const { host, port } = settings.listen;
  // The address it listens on is one agents reach it by: the certificate names it too.
  const wildcard = host === '0.0.0.0' || host === '::';
  const tls = await loadServerTls({
    dataDir: opts.dataDir,
    names: wildcard || settings.names.includes(host) ? settings.names : [...settings.names, host],
    ...(settings.tls ? { files: settings.tls } : {}),
  });
  const fastifySettings = {
    logger: false,
    forceCloseConnections: true,
    // What fails before routing answers Ferry's envelope too.
    frameworkErrors,
    clientErrorHandler,
  } as const;
  const app = Fastify({
    ...fastifySettings,
    https: { key: tls.key, cert: tls.cert },
  }) as unknown as FastifyInstance;
  await app.register(enrollRoutes, { trust: opts.trust, logger });
  await app.register(agentApiRoutes, {
    exchange: opts.exchange,
    authenticator: { authenticate: async (credential) => opts.trust.authenticateAgent(credential) },
    logger,
  });
  try {
    await app.listen({ host, port });
  } catch (error) {
    throw new FerryError(
      'FERRY_E_PORT_IN_USE',
      `the agents' address cannot listen on ${host}:${port}: ${messageOf(error)}`,
      { where: `${host}:${port}` },
      { cause: error },
    );
  }
  const address = app.server.address();
  const bound = typeof address === 'object' && address !== null ? address.port : port;
  const shown = wildcard ? hostname() : host.includes(':') ? `[${host}]` : host;
  return { url: `https://${shown}:${bound}`, tls, close: () => app.close() };
}
