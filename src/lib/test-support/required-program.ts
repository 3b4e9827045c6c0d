import { accessSync, constants, statSync } from 'node:fs';
import path from 'node:path';

/**
 * Fails clearly when a program a test runs is not installed. Tests never install anything:
 * `npm test` runs scripts/test-deps.mjs first, which installs the Debian packages the tests need
 * (as root) or names what is missing. Nothing is skipped: a missing program fails the test.
 */
export function requireProgram(command: string): void {
  if (isOnPath(command)) return;
  throw new Error(
    `${command} is not installed, and this test runs it: \`npm test\` installs what the tests need ` +
      '(scripts/test-deps.mjs, as root with apt-get); run `node scripts/test-deps.mjs` to see what is missing',
  );
}

function isOnPath(command: string): boolean {
  return (process.env.PATH ?? '').split(path.delimiter).some((dir) => {
    if (dir === '') return false;
    const file = path.join(dir, command);
    try {
      accessSync(file, constants.X_OK);
      return statSync(file).isFile();
    } catch {
      return false;
    }
  });
}
