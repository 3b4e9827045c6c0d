import type { FastifyRequest } from 'fastify';
import { FerryError } from '../../errors/ferry-error.js';

/**
 * Who an agent is, from the credential it presents (the port: enrollment and credentials are
 * src/server/trust/'s). Throws FERRY_E_UNAUTHORIZED for a credential that is unknown, revoked or
 * malformed; the credential never appears in what it throws.
 */
export interface AgentAuthenticator {
  authenticate(credential: string): Promise<{ hostId: string }>;
}

const BEARER = 'Bearer ';

/** The credential of `Authorization: Bearer <credential>`; FERRY_E_UNAUTHORIZED when there is none. */
export function agentCredential(request: FastifyRequest): string {
  const header = request.headers.authorization ?? '';
  const credential = header.startsWith(BEARER) ? header.slice(BEARER.length).trim() : '';
  if (credential === '')
    throw new FerryError(
      'FERRY_E_UNAUTHORIZED',
      "the agent API needs the agent's credential: Authorization: Bearer <credential>",
      {
        expected: 'Authorization: Bearer <credential>',
        got: header === '' ? 'no Authorization header' : 'another scheme',
      },
    );
  return credential;
}
