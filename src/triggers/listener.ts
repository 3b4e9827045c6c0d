import { FerryError, messageOf } from '../errors/ferry-error.js';
import { createTriggersServer, type TriggersDeps } from './server.js';

/** The webhook listener, listening. */
export interface TriggersListener {
  readonly url: string;
  close(): Promise<void>;
}

/**
 * Serves the webhooks on `triggers.listen`, an address of its own: it faces the internet, the
 * API does not, and it takes none of the API's token (each source authenticates by its secret).
 */
export async function listenForTriggers(deps: TriggersDeps): Promise<TriggersListener> {
  const server = createTriggersServer(deps);
  const { host, port } = deps.settings.listen;
  try {
    await server.listen({ host, port });
  } catch (error) {
    throw new FerryError(
      'FERRY_E_PORT_IN_USE',
      `the webhook listener cannot listen on ${host}:${port}: ${messageOf(error)}`,
      { where: `${host}:${port}` },
      { cause: error },
    );
  }
  const address = server.server.address();
  const bound = typeof address === 'object' && address !== null ? address.port : port;
  return { url: `http://${host.includes(':') ? `[${host}]` : host}:${bound}`, close: () => server.close() };
}
