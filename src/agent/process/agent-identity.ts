import { readKeptFile } from '../kept-file.js';

import path from 'node:path';
import { z } from 'zod';
import { FerryError } from '../../errors/ferry-error.js';
import { writePrivateFile } from '../../lib/private-file.js';

/** Who this agent's host is, as enrollment made it: kept beside its credential. */
export interface AgentIdentity {
  readonly hostId: string;
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
}

const identitySchema = z.object({
  hostId: z.string().min(1),
  name: z.string().min(1),
  labels: z.record(z.string(), z.string()),
});

/** The file in the agent's data directory that names its host. */
export function identityFile(dataDir: string): string {
  return path.join(dataDir, 'agent.json');
}

export function saveAgentIdentity(dataDir: string, identity: AgentIdentity): void {
  writePrivateFile(identityFile(dataDir), `${JSON.stringify(identity, null, 2)}\n`);
}

/**
 * The identity an earlier enrollment kept; undefined before the first. A file that cannot be read
 * or is not an identity is FERRY_E_DATA_DIR: it is never replaced silently (enrolling again would
 * make another host).
 */
export function readAgentIdentity(dataDir: string): AgentIdentity | undefined {
  const file = identityFile(dataDir);
  const text = readKeptFile(file, "the agent's identity");
  if (text === undefined) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = undefined;
  }
  const checked = identitySchema.safeParse(parsed);
  if (!checked.success)
    throw new FerryError(
      'FERRY_E_DATA_DIR',
      `the agent's identity ${file} is damaged: restore it, or revoke the host (ferry hosts revoke) and enroll this one again with a new data directory`,
      { where: file },
    );
  return checked.data;
}
