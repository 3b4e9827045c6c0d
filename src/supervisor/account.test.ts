import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { isFerryError } from '../errors/ferry-error.js';
import { accountSpawnOptions, resolveRunAccount, type AccountFiles } from './account.js';

const dir = mkdtempSync(path.join(tmpdir(), 'ferry-account-'));
const files: AccountFiles = { passwd: path.join(dir, 'passwd'), group: path.join(dir, 'group') };
writeFileSync(
  files.passwd,
  [
    'root:x:0:0:root:/root:/bin/bash',
    '# a comment',
    'web:x:1001:1001:Web:/srv/web:/usr/sbin/nologin',
    'nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin',
    '',
  ].join('\n'),
);
writeFileSync(
  files.group,
  ['root:x:0:', 'web:x:1001:', 'deploy:x:2000:web', 'nogroup:x:65534:', ''].join('\n'),
);

afterAll(() => rmSync(dir, { recursive: true, force: true }));

const asRoot = { uid: 0, gid: 0, files };
const where = 'apps.web.run';

function problem(fn: () => unknown): { message: string; path: unknown } {
  try {
    fn();
  } catch (error) {
    if (!isFerryError(error, 'FERRY_E_CONFIG_INVALID')) throw error;
    return { message: error.message, path: error.details.where };
  }
  throw new Error('expected a configuration error');
}

describe('resolveRunAccount', () => {
  it('is null without run.user', () => {
    expect(resolveRunAccount({ user: null, group: null }, where, asRoot)).toBeNull();
  });

  it('resolves a name with its primary group, HOME and name', () => {
    expect(resolveRunAccount({ user: 'nobody', group: null }, where, asRoot)).toEqual({
      uid: 65534,
      gid: 65534,
      name: 'nobody',
      home: '/nonexistent',
    });
  });

  it('takes a group by name or id, and a user by id', () => {
    expect(resolveRunAccount({ user: 'web', group: 'deploy' }, where, asRoot)).toMatchObject({
      uid: 1001,
      gid: 2000,
    });
    expect(resolveRunAccount({ user: '1001', group: '2000' }, where, asRoot)).toMatchObject({
      uid: 1001,
      gid: 2000,
      name: 'web',
    });
  });

  it('takes an unlisted uid only with a group', () => {
    expect(resolveRunAccount({ user: '4242', group: '4242' }, where, asRoot)).toEqual({
      uid: 4242,
      gid: 4242,
      name: '4242',
      home: '/',
    });
    expect(problem(() => resolveRunAccount({ user: '4242', group: null }, where, asRoot))).toEqual({
      path: 'apps.web.run.group',
      message: `apps.web.run.group: expected a group for uid 4242, which ${files.passwd} does not list, got nothing`,
    });
  });

  it('names the field of an unknown user or group', () => {
    expect(problem(() => resolveRunAccount({ user: 'ghost', group: null }, where, asRoot))).toEqual({
      path: 'apps.web.run.user',
      message: `apps.web.run.user: expected a user listed in ${files.passwd}, got "ghost"`,
    });
    expect(problem(() => resolveRunAccount({ user: 'web', group: 'ghosts' }, where, asRoot)).path).toBe(
      'apps.web.run.group',
    );
  });

  it('refuses another account when Ferry is not root, naming the field; its own is a no-op', () => {
    const asWeb = { uid: 1001, gid: 1001, files };
    expect(problem(() => resolveRunAccount({ user: 'nobody', group: null }, where, asWeb))).toEqual({
      path: 'apps.web.run.user',
      message:
        'apps.web.run.user: expected Ferry to run as root to run processes as user nobody (uid 65534), got uid 1001',
    });
    expect(problem(() => resolveRunAccount({ user: 'web', group: 'deploy' }, where, asWeb)).path).toBe(
      'apps.web.run.group',
    );
    expect(resolveRunAccount({ user: 'web', group: null }, where, asWeb)).toBeNull();
  });
});

describe('accountSpawnOptions', () => {
  it('sets uid and gid only for an account', () => {
    expect(accountSpawnOptions(null)).toEqual({});
    expect(accountSpawnOptions({ uid: 7, gid: 8, name: 'x', home: '/' })).toEqual({ uid: 7, gid: 8 });
  });
});
