import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FerryError } from '../../errors/ferry-error.js';
import { expectFerryError } from '../contract/fixtures.js';
import { openKvStore } from './open.js';
import { parseStoreUrl } from './store-url.js';

describe('store URLs', () => {
  it.each([
    ['sqlite:/var/lib/ferry/kv.db', { driver: 'sqlite', path: '/var/lib/ferry/kv.db' }],
    ['sqlite:///var/lib/ferry/kv.db', { driver: 'sqlite', path: '/var/lib/ferry/kv.db' }],
    ['sqlite:kv.db', { driver: 'sqlite', path: 'kv.db' }],
    ['/var/lib/ferry/kv.db', { driver: 'sqlite', path: '/var/lib/ferry/kv.db' }],
    ['./data/kv.db', { driver: 'sqlite', path: './data/kv.db' }],
    ['etcd://127.0.0.1:2379', { driver: 'etcd', endpoints: ['127.0.0.1:2379'], prefix: '/ferry/' }],
    ['etcd://etcd-1', { driver: 'etcd', endpoints: ['etcd-1:2379'], prefix: '/ferry/' }],
    [
      'etcd://10.0.0.1:2379,10.0.0.2:22379,[::1]:2379/ferry-prod',
      {
        driver: 'etcd',
        endpoints: ['10.0.0.1:2379', '10.0.0.2:22379', '[::1]:2379'],
        prefix: '/ferry-prod/',
      },
    ],
    ['ETCD://h:1/team/ferry/', { driver: 'etcd', endpoints: ['h:1'], prefix: '/team/ferry/' }],
    [
      'etcd://ferry:p%40ss@h:2379/prod',
      {
        driver: 'etcd',
        endpoints: ['h:2379'],
        prefix: '/prod/',
        auth: { username: 'ferry', password: 'p@ss' },
      },
    ],
  ])('reads %s', (url, location) => {
    expect(parseStoreUrl(url)).toEqual(location);
  });

  it.each([
    ['', 'empty'],
    ['mysql://db/ferry', 'unknown store scheme "mysql:"'],
    ['sqlite:', 'no path'],
    ['sqlite://host/kv.db', 'no host'],
    ['etcd:127.0.0.1:2379', 'starts with etcd://'],
    ['etcd://', 'names no host'],
    ['etcd:///ferry', 'names no host'],
    ['etcd://h:2379,,h2:2379', 'names no host'],
    ['etcd://:2379', 'names no host'],
    ['etcd://h:0', 'not a port'],
    ['etcd://h:65536', 'not a port'],
    ['etcd://h:http', 'not a port'],
    ['etcd://h:2379:1', 'not a port'],
    ['etcd://bad_host!:2379', 'not a host name'],
    ['etcd://h:2379/ferry prod', 'key prefix'],
    ['etcd://h:2379/a//b', 'key prefix'],
    ['etcd://h:2379/ferry?x=1', 'no query'],
    ['etcd://user@h:2379', 'user:password'],
  ])('refuses %j with FERRY_E_USAGE (%s)', (url, problem) => {
    let error: unknown;
    try {
      parseStoreUrl(url, '--store');
    } catch (thrown) {
      error = thrown;
    }
    expect(error).toBeInstanceOf(FerryError);
    expect((error as FerryError).code).toBe('FERRY_E_USAGE');
    expect((error as FerryError).message).toMatch(/^--store: /);
    expect((error as FerryError).message).toContain(problem);
  });

  it('never shows the password of a URL it refuses', () => {
    for (const url of ['etcd://ferry:s3cret-pw@h:99999/x', 'etcd://ferry:s3cret-pw@h:2379/bad prefix']) {
      let error: unknown;
      try {
        parseStoreUrl(url, 'server.store');
      } catch (thrown) {
        error = thrown;
      }
      expect(error).toBeInstanceOf(FerryError);
      const shown = JSON.stringify({
        message: (error as FerryError).message,
        details: (error as FerryError).details,
      });
      expect(shown).toContain('server.store');
      expect(shown).not.toContain('s3cret');
    }
  });
});

describe('openKvStore', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'ferry-kv-open-'));
  });
  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('opens the SQLite store a sqlite: URL or a plain path names', async () => {
    const path = join(dir, 'kv.db');
    const store = await openKvStore(`sqlite:${path}`);
    await store.put('/a', '1');
    await store.close();
    const again = await openKvStore(path);
    expect(await again.get('/a')).toMatchObject({ value: '1' });
    await again.close();
  });

  it('refuses a bad URL before touching anything', async () => {
    await expectFerryError(openKvStore('etcd://h:0/x'), 'FERRY_E_USAGE');
  });
});
