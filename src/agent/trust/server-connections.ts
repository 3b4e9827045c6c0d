import { Agent } from 'node:https';

/**
 * The connections an agent talks to its server over: TLS that trusts only the pinned CA (not the
 * system's roots), checking that the certificate names the host of the server's URL, kept alive
 * between requests. Node's own HTTP client: an agent that loads no HTTP library of its own holds
 * about 17 MB less (undici's code, and the WebAssembly HTTP parser it compiles; bench/agent-idle.mjs).
 */
export function createServerConnections(ca: string): Agent {
  return new Agent({ keepAlive: true, ca, rejectUnauthorized: true });
}
