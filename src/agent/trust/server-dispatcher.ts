import { Agent } from 'undici';

/**
 * The HTTP client an agent talks to its server with: TLS that trusts only the pinned CA (not the
 * system's roots) and checks that the certificate names the host of the server's URL.
 */
export function createServerDispatcher(ca: string, options: Omit<Agent.Options, 'connect'> = {}): Agent {
  return new Agent({ ...options, connect: { ca, rejectUnauthorized: true } });
}
