import { isIP } from 'node:net';
import { FerryError } from '../../errors/ferry-error.js';

const DNS_LABEL = '[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?';
const DNS_NAME = new RegExp(`^${DNS_LABEL}(?:\\.${DNS_LABEL})*$`);

/** True for what may go in a server certificate's names: an IP address or a DNS name. */
export function isServerName(name: string): boolean {
  return isIP(name) !== 0 || (name.length <= 253 && DNS_NAME.test(name));
}

/**
 * The names the quick setup's server certificate carries: the host's name (first, its common
 * name), localhost, 127.0.0.1, ::1, then the operator's (`extra`), without repeats. A host name
 * that is not a DNS name is left out; an operator's name that is neither one nor an IP is refused.
 */
export function serverNames(hostname: string, extra: readonly string[] = []): string[] {
  for (const name of extra) {
    if (!isServerName(name)) {
      throw new FerryError(
        'FERRY_E_USAGE',
        `server certificate name: expected a DNS name or an IP address, got ${JSON.stringify(name.slice(0, 300))}`,
        {
          where: 'server certificate names',
          expected: 'a DNS name or an IP address',
          got: name.slice(0, 300),
        },
      );
    }
  }
  const names = [...(isServerName(hostname) ? [hostname] : []), 'localhost', '127.0.0.1', '::1', ...extra];
  const seen = new Set<string>();
  return names.filter((name) => {
    const key = name.toLowerCase();
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
