import { accessSync, constants, statSync } from 'node:fs';
import path from 'node:path';

/**
 * Fails clearly when a program a test runs is not installed. Tests never install anything:
 * `npm test` runs scripts/test-deps.mjs first, which installs the Debian packages the tests need
 * (as root) or names what is missing. Nothing is skipped: a missing program fails the test.
 */
export function requireProgram(command: string): void {
  if (findProgram(command) !== null) return;
  throw new Error(
    `${command} is not installed, and this test runs it: \`npm test\` installs what the tests need ` +
      '(scripts/test-deps.mjs, as root with apt-get); run `node scripts/test-deps.mjs` to see what is missing',
  );
}

/**
 * The path of an executable named `command` in PATH, else in one of `extraDirs` (e.g. /usr/sbin,
 * which an ordinary user's PATH omits); null when there is none.
 */
export function findProgram(command: string, extraDirs: readonly string[] = []): string | null {
  const dirs = [...(process.env.PATH ?? '').split(path.delimiter), ...extraDirs];
  for (const dir of dirs) {
    if (dir === '') continue;
    const file = path.join(dir, command);
    try {
      accessSync(file, constants.X_OK);
      if (statSync(file).isFile()) return file;
    } catch {
      // not in this directory
    }
  }
  return null;
}
