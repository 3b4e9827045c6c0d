import { renameSync, writeFileSync } from 'node:fs';

/**
 * Writes a file only its owner may read (mode 0600), whole or not at all: a temporary file beside
 * it, flushed, then renamed over it. For keys, credentials and the certificates beside them.
 */
export function writePrivateFile(file: string, content: string): void {
  const temp = `${file}.${process.pid}.tmp`;
  writeFileSync(temp, content, { mode: 0o600, flush: true });
  renameSync(temp, file);
}
