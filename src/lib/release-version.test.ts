import { describe, expect, it } from 'vitest';
import { isFerryError } from '../errors/ferry-error.js';
import { assertVersionName, isValidVersion } from './release-version.js';

describe('release versions', () => {
  it.each([
    '1.0.0',
    'v2.1.0-rc.1+build.7',
    '1.0~beta',
    'constructor',
    'toString',
    'Current',
    'a'.repeat(128),
  ])('accepts %s', (version) => expect(isValidVersion(version)).toBe(true));

  it.each([
    ['current', 'the releases dir link to the active release'],
    ['.tmp-1', 'a dot name, like Ferry’s temp dirs'],
    ['.current-abc', 'the temp name of the current link'],
    ['..', 'the parent'],
    ['../etc', 'a path'],
    ['a/b', 'a path'],
    ['', 'nothing'],
    ['_x', 'a leading underscore'],
    ['__proto__', 'a prototype key'],
    ['a b', 'a space'],
    ['a'.repeat(129), 'too long'],
  ])('refuses %j (%s)', (version) => {
    expect(isValidVersion(version)).toBe(false);
    try {
      assertVersionName(version, 'body.version');
      expect.unreachable();
    } catch (error) {
      expect(isFerryError(error, 'FERRY_E_USAGE')).toBe(true);
      expect((error as Error).message).toBe(
        `body.version: expected letters, digits and . _ + ~ - (at most 128, starting with a letter or digit, not "current"), got ${JSON.stringify(version)}`,
      );
    }
  });
});
