import { describe, expect, it } from 'vitest';
import { changelogOf, compareReleases, versionOfTag } from './found-release.js';

describe('release order and versions from tags', () => {
  it('a leading v is dropped only when the rest is semver', () => {
    expect(versionOfTag('v1.2.3')).toBe('1.2.3');
    expect(versionOfTag('v1.2.3-rc.1')).toBe('1.2.3-rc.1');
    expect(versionOfTag('1.2.3')).toBe('1.2.3');
    expect(versionOfTag('v2024.1')).toBe('v2024.1');
    expect(versionOfTag('release-7')).toBe('release-7');
  });

  it('semver versions by semver; others by publish time, then by name', () => {
    const sorted = (marks: Array<[string, number | null]>) =>
      marks
        .map(([version, publishedAt]) => ({ version, publishedAt }))
        .sort(compareReleases)
        .map((m) => m.version);
    expect(
      sorted([
        ['1.10.0', 1],
        ['1.2.0', 2],
        ['1.2.0-rc.1', 3],
      ]),
    ).toEqual(['1.2.0-rc.1', '1.2.0', '1.10.0']);
    expect(
      sorted([
        ['build-9', 300],
        ['build-10', 100],
        ['build-8', null],
      ]),
    ).toEqual(['build-8', 'build-10', 'build-9']);
    expect(
      sorted([
        ['b', 5],
        ['a', 5],
      ]),
    ).toEqual(['a', 'b']);
  });

  it('release notes are trimmed and cut to a few KiB', () => {
    expect(changelogOf('  \n')).toBeNull();
    expect(changelogOf(null)).toBeNull();
    expect(changelogOf(' notes ')).toBe('notes');
    expect(changelogOf('x'.repeat(10_000))?.length).toBe(4097);
  });
});
