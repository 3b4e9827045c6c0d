import { execFileSync } from 'node:child_process';
import { closeSync, mkdirSync, openSync, writeFileSync, writeSync } from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { openSqliteKvStore } from '../../src/store/kv/sqlite-kv.js';
import { openSqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import { createHarness, type FerryHarness } from '../support/ferry.js';
import { snapshotTree } from '../support/tree.js';

/**
 * `ferry up` checks its data directory before it uses it: each problem is one catalog error with a
 * message that says what to do, exit code 1, no stack trace, and nothing changed on disk.
 */
describe('ferry up start-up checks', () => {
  let ferry: FerryHarness;
  let mounted: string | null = null;

  beforeAll(async () => {
    ferry = await createHarness({ instances: 1 });
  });

  afterEach(async () => {
    await ferry.kill9();
    if (mounted !== null) execFileSync('umount', [mounted]);
    mounted = null;
    execFileSync('rm', ['-rf', ferry.home]);
  });

  afterAll(async () => {
    await ferry?.cleanup();
  });

  /** A Ferry data directory as a previous daemon left it: a token and a store with a release. */
  async function ferryDataDir(): Promise<void> {
    mkdirSync(ferry.home, { recursive: true, mode: 0o700 });
    writeFileSync(path.join(ferry.home, 'api-token'), 'a-token\n', { mode: 0o600 });
    const store = openSqliteStore(path.join(ferry.home, 'ferry.db'));
    await store.upsertRelease({
      app: 'hello',
      env: 'production',
      version: '1.0.0',
      artifactUrl: 'file:///dist/hello-1.0.0.tar.gz',
      checksum: null,
      createdAt: 1,
    });
    await store.setCurrent('hello', 'production', '1.0.0');
    await store.close();
  }

  /** A small real tmpfs at the data directory. Needs root; a failed mount fails the test under CI. */
  function mountDisk(size: string, skip: () => void): boolean {
    mkdirSync(ferry.home, { recursive: true });
    try {
      execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size},mode=0700`, 'tmpfs', ferry.home], {
        stdio: 'ignore',
      });
      mounted = ferry.home;
      return true;
    } catch {
      if (process.env.CI === 'true') throw new Error('mount -t tmpfs failed: this test needs root');
      skip();
      return false;
    }
  }

  async function expectRefusal(code: string, message: string | RegExp): Promise<string> {
    const before = snapshotTree(ferry.home);
    const failed = await ferry.upFails();
    expect(failed.code, failed.output).toBe(1);
    expect(failed.output).toContain(`(${code})`);
    expect(failed.output).toMatch(message);
    expect(failed.output).not.toMatch(/\n\s+at /);
    expect(snapshotTree(ferry.home)).toEqual(before);
    return failed.output;
  }

  it("refuses an existing directory that is not Ferry's, and neither uses nor chmods it", async () => {
    mkdirSync(ferry.home, { mode: 0o755 });
    writeFileSync(path.join(ferry.home, 'notes.txt'), 'my files\n');
    mkdirSync(path.join(ferry.home, 'projects'));
    await expectRefusal(
      'FERRY_E_DATA_DIR',
      `the data directory ${ferry.home} is not Ferry's: it holds notes.txt, projects and none of Ferry's files`,
    );
  });

  it('refuses an empty or whitespace api-token and never regenerates it', async () => {
    await ferryDataDir();
    writeFileSync(path.join(ferry.home, 'api-token'), '  \n', { mode: 0o600 });
    const output = await expectRefusal(
      'FERRY_E_TOKEN_FILE',
      `the API token file ${path.join(ferry.home, 'api-token')} is empty`,
    );
    expect(output).toMatch(/delete it/);
  });

  /** Garbage over the headers of some pages: the file header is intact, some b-tree pages are not. */
  function damagePages(file: string): void {
    const fd = openSync(file, 'r+');
    for (let page = 2; page < 30; page += 3) writeSync(fd, Buffer.alloc(64, 0xa5), 0, 64, 4096 * page);
    closeSync(fd);
  }

  it("finds damaged pages of the host's instance records at open, naming the file and what to do", async () => {
    await ferryDataDir();
    const db = path.join(ferry.home, 'ferry.db');
    const store = openSqliteStore(db);
    for (let n = 0; n < 200; n++) {
      await store.upsertRelease({
        app: 'hello',
        env: 'production',
        version: `0.${n}.0`,
        artifactUrl: `file:///dist/hello-0.${n}.0.tar.gz/${'x'.repeat(200)}`,
        checksum: null,
        createdAt: n,
      });
    }
    await store.close();
    damagePages(db);
    const output = await expectRefusal('FERRY_E_STORE_DAMAGED', `the store ${db} is damaged`);
    expect(output).toMatch(/backup/);
    expect(output).toContain('it only keeps which instances run here');
  });

  it("finds damaged pages of the control plane's records at open, naming the file", async () => {
    await ferryDataDir();
    const file = path.join(ferry.home, 'control.db');
    const kv = await openSqliteKvStore(file);
    for (let n = 0; n < 200; n++) await kv.put(`/ledger/hello/production/0.${n}.0`, 'x'.repeat(300));
    await kv.close();
    damagePages(file);
    const output = await expectRefusal('FERRY_E_STORE_DAMAGED', `the store ${file} is damaged`);
    expect(output).toMatch(/backup/);
    expect(output).toContain('ferry up --adopt');
  });

  it('refuses a data directory on a read-only file system', async (context) => {
    if (!mountDisk('4m', () => context.skip())) return;
    await ferryDataDir();
    execFileSync('mount', ['-o', 'remount,ro', ferry.home]);
    await expectRefusal('FERRY_E_DATA_DIR', `the data directory ${ferry.home} is on a read-only file system`);
  });

  it('refuses a data directory on a full disk', async (context) => {
    if (!mountDisk('1m', () => context.skip())) return;
    await ferryDataDir();
    try {
      execFileSync('dd', ['if=/dev/zero', `of=${path.join(ferry.home, 'filler')}`, 'bs=64k'], {
        stdio: 'ignore',
      });
    } catch {
      // dd stops with ENOSPC: the disk is full now
    }
    await expectRefusal('FERRY_E_DISK_FULL', `the data directory ${ferry.home} is on a full disk`);
  });
});
