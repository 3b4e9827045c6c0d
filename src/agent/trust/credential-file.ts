import { readKeptFile } from '../kept-file.js';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { FerryError } from '../../errors/ferry-error.js';
import { writePrivateFile } from '../../lib/private-file.js';

/** The file in the agent's data directory that keeps its credential (owner-only). */
export function credentialFile(dataDir: string): string {
  return path.join(dataDir, 'agent-credential');
}

/** Keeps the credential enrollment returned: the agent's only proof of who it is from now on. */
export function saveAgentCredential(dataDir: string, credential: string): void {
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  writePrivateFile(credentialFile(dataDir), `${credential}\n`);
}

/**
 * The credential kept by an earlier enrollment; undefined before the first one. An empty or
 * unreadable file is FERRY_E_DATA_DIR (never silently replaced: enrolling again makes a new host).
 */
export function readAgentCredential(dataDir: string): string | undefined {
  const file = credentialFile(dataDir);
  const text = readKeptFile(file, 'the agent credential file');
  if (text === undefined) return undefined;
  const credential = text.trim();
  if (credential === '') {
    throw new FerryError(
      'FERRY_E_DATA_DIR',
      `the agent credential file ${file} is empty: delete it and enroll again with a join token (a new host; revoke the old one)`,
      { where: file },
    );
  }
  return credential;
}
