import { FerryError } from '../errors/ferry-error.js';

/**
 * The one validator of release versions. A version names a directory in a releases dir and a part of
 * an artifact URL, so it is one path component of a safe alphabet, and never a name Ferry keeps in
 * that directory: `current` (the symlink to the active release) or a dot name (temp and trash dirs).
 */

/** The name of the symlink (inside a releases dir) that points at the active release. */
export const CURRENT_LINK = 'current';

const VERSION = /^[A-Za-z0-9][A-Za-z0-9._+~-]{0,127}$/;

/** What a version must look like, in the words of error messages. */
export const VERSION_EXPECTED = `letters, digits and . _ + ~ - (at most 128, starting with a letter or digit, not "${CURRENT_LINK}")`;

/** True when `version` may name a release. */
export function isValidVersion(version: string): boolean {
  return VERSION.test(version) && version !== CURRENT_LINK;
}

/** `expected ..., got "..."` for a version that may not name a release, else null. */
export function versionProblem(version: string): string | null {
  return isValidVersion(version) ? null : `expected ${VERSION_EXPECTED}, got ${JSON.stringify(version)}`;
}

/** Throws FERRY_E_USAGE naming `where` (a field, an argument) when the version may not name a release. */
export function assertVersionName(version: string, where = 'version'): void {
  const problem = versionProblem(version);
  if (problem === null) return;
  throw new FerryError('FERRY_E_USAGE', `${where}: ${problem}`, {
    where,
    expected: VERSION_EXPECTED,
    got: version,
  });
}
