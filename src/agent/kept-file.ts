import { readFileSync } from 'node:fs';
import { FerryError, messageOf } from '../errors/ferry-error.js';

/**
 * A file the agent keeps in its data directory (its credential, its identity): its text, or
 * undefined when there is none yet. One that exists but cannot be read is FERRY_E_DATA_DIR, naming
 * `what`: it is never replaced silently (enrolling again would make another host).
 */
export function readKeptFile(file: string, what: string): string | undefined {
  try {
    return readFileSync(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new FerryError('FERRY_E_DATA_DIR', `${what} ${file} cannot be read (${messageOf(error)})`, {
      where: file,
    });
  }
}
