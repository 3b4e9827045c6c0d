import { spawn } from 'node:child_process';
import {
  closeSync,
  mkdtempSync,
  openSync,
  readFileSync,
  readdirSync,
  rmSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FINAL_STATUSES } from '../../engine/types.js';
import { describeStoreContract } from '../contract.js';
import { aDeployment, anInstance, expectFerryError } from '../contract/fixtures.js';
import { RELEASE_STATUSES } from '../store.js';
import {
  MIGRATIONS,
  SCHEMA_FINAL_STATUSES,
  SCHEMA_RELEASE_STATUSES,
  migrate,
  schemaVersion,
} from './migrations.js';
import { openSqliteStore } from './sqlite-store.js';

/** The SQLite error code `work` failed with. */
function sqliteCodeOf(work: () => unknown): unknown {
  return (thrownBy(work) as { code?: unknown }).code;
}

/** What `work` threw; fails the test when it threw nothing. */
function thrownBy(work: () => unknown): unknown {
  try {
    work();
  } catch (error) {
    return error;
  }
  throw new Error('expected the call to throw');
}

describeStoreContract('sqlite (in memory)', () => Promise.resolve(openSqliteStore(':memory:')));

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'ferry-store-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('sqlite store on disk', () => {
  it('keeps everything across close and reopen', async () => {
    const path = join(dir, 'ferry.db');
    const store = openSqliteStore(path);
    await store.upsertRelease({
      app: 'web',
      env: 'production',
      version: '1.0.0',
      artifactUrl: 'file:///a',
      checksum: null,
      createdAt: 1,
    });
    await store.markRelease('web', 'production', '1.0.0', 'good', 'ok', 2);
    await store.createDeployment(aDeployment());
    await store.saveDeployment(aDeployment({ phase: 'shifting', weight: 40 }));
    await store.appendEvent({
      deploymentId: 'd-1',
      at: 3,
      type: 'phase',
      message: 'shifting',
      data: { weight: 40 },
    });
    await store.putInstance(anInstance({ pid: 77 }));
    await store.setCurrent('web', 'production', '1.0.0');
    await store.acquireLock({
      key: 'env:production',
      owner: 'alice',
      reason: 'freeze',
      expiresAt: null,
      createdAt: 4,
    });
    await store.audit({ at: 5, actor: 'cli', action: 'deploy', target: 'web/production' });
    await store.close();

    const reopened = openSqliteStore(path);
    expect(await reopened.getRelease('web', 'production', '1.0.0')).toMatchObject({
      status: 'good',
      goodAt: 2,
    });
    expect(await reopened.activeDeployment('web', 'production')).toStrictEqual(
      aDeployment({ phase: 'shifting', weight: 40 }),
    );
    expect(await reopened.listEvents('d-1')).toEqual([
      { deploymentId: 'd-1', seq: 1, at: 3, type: 'phase', message: 'shifting', data: { weight: 40 } },
    ]);
    expect(await reopened.getInstance('i-1')).toStrictEqual(anInstance({ pid: 77 }));
    expect(await reopened.getCurrent('web', 'production')).toBe('1.0.0');
    expect(await reopened.getLock('env:production', 10)).toMatchObject({ owner: 'alice' });
    expect(await reopened.listAudit(5)).toHaveLength(1);
    await reopened.close();
  });

  it('enforces one active deployment across connections to the same file', async () => {
    const path = join(dir, 'ferry.db');
    const first = openSqliteStore(path);
    const second = openSqliteStore(path);
    try {
      await first.createDeployment(aDeployment({ id: 'd-first' }));
      const error = await expectFerryError(
        second.createDeployment(aDeployment({ id: 'd-second' })),
        'FERRY_E_DEPLOYMENT_IN_PROGRESS',
      );
      expect(error.message).toContain('d-first');
    } finally {
      await first.close();
      await second.close();
    }
  });

  it('keeps what started a deployment, and loads one stored before Ferry kept it with trigger null', async () => {
    const path = join(dir, 'ferry.db');
    const store = openSqliteStore(path);
    const trigger = { kind: 'webhook', actor: 'webhook:github:7f3a' } as const;
    await store.createDeployment(aDeployment({ id: 'd-new', trigger, status: 'succeeded', phase: 'done' }));
    await store.createDeployment(aDeployment({ id: 'd-old', status: 'succeeded', phase: 'done' }));
    await store.close();
    // As an older Ferry wrote it: a state without the field.
    const db = new Database(path);
    const row = db.prepare("SELECT state FROM deployments WHERE id = 'd-old'").get() as { state: string };
    const { trigger: _gone, ...older } = JSON.parse(row.state) as Record<string, unknown>;
    db.prepare("UPDATE deployments SET state = ? WHERE id = 'd-old'").run(JSON.stringify(older));
    db.close();
    const reopened = openSqliteStore(path);
    expect((await reopened.getDeployment('d-new'))?.trigger).toEqual(trigger);
    expect((await reopened.getDeployment('d-old'))?.trigger).toBeNull();
    await reopened.close();
  });

  it('uses WAL journaling', async () => {
    const path = join(dir, 'ferry.db');
    await openSqliteStore(path).close();
    const db = new Database(path, { readonly: true });
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    db.close();
  });

  it('fails with FERRY_E_STORE_DAMAGED on a file that is not a database, FERRY_E_STORE on a missing directory', () => {
    const garbage = join(dir, 'garbage.db');
    writeFileSync(
      garbage,
      'this is not a database, just text that is long enough to have a header'.repeat(20),
    );
    expect(thrownBy(() => openSqliteStore(garbage))).toMatchObject({
      code: 'FERRY_E_STORE_DAMAGED',
      message: expect.stringContaining(garbage),
    });
    expect(thrownBy(() => openSqliteStore(join(dir, 'missing', 'ferry.db')))).toMatchObject({
      code: 'FERRY_E_STORE',
    });
  });

  it('finds damaged pages at open, not by a later query, and leaves the file as it was', async () => {
    const path = join(dir, 'ferry.db');
    const store = openSqliteStore(path);
    for (let n = 0; n < 200; n++) {
      await store.upsertRelease({
        app: 'web',
        env: 'production',
        version: `0.${n}.0`,
        artifactUrl: `file:///releases/web-0.${n}.0.tar.gz?padding=${'x'.repeat(200)}`,
        checksum: null,
        createdAt: n,
      });
    }
    await store.close();
    // Garbage over the headers of some pages; the file header (page 1) stays intact.
    const fd = openSync(path, 'r+');
    for (let page = 2; page < 30; page += 3) writeSync(fd, Buffer.alloc(64, 0xa5), 0, 64, 4096 * page);
    closeSync(fd);
    const before = readFileSync(path);

    const error = thrownBy(() => openSqliteStore(path));
    expect(error).toMatchObject({ code: 'FERRY_E_STORE_DAMAGED' });
    expect((error as Error).message).toMatch(
      new RegExp(
        `^the store ${path} is damaged \\(its integrity check found: .*page \\d+.*\\); Ferry did not use it\\. Restore it from a backup`,
      ),
    );
    expect(readFileSync(path).equals(before)).toBe(true);
    expect(readdirSync(dir)).toEqual(['ferry.db']);
  });
});

describe('sqlite migrations', () => {
  it('builds the whole schema on an empty database and records its version', () => {
    const path = join(dir, 'ferry.db');
    const db = new Database(path);
    migrate(db, path);
    expect(schemaVersion(db)).toBe(MIGRATIONS.length);
    const tables = db
      .prepare<[], { name: string }>("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
      .all();
    expect(tables.map((t) => t.name)).toEqual([
      'audit',
      'current',
      'deployment_events',
      'deployments',
      'instances',
      'locks',
      'records_moved',
      'releases',
    ]);
    // A second run finds nothing to do.
    migrate(db, path);
    expect(schemaVersion(db)).toBe(MIGRATIONS.length);
    db.close();
  });

  it('refuses a database written by a newer Ferry and leaves it untouched', () => {
    const path = join(dir, 'ferry.db');
    const newer = MIGRATIONS.length + 1;
    const db = new Database(path);
    db.pragma(`user_version = ${newer}`);
    db.close();
    expect(thrownBy(() => openSqliteStore(path))).toMatchObject({
      code: 'FERRY_E_STORE',
      message: expect.stringMatching(
        new RegExp(`schema version ${newer}.*newer than this Ferry knows \\(up to ${MIGRATIONS.length}\\)`),
      ),
    });
    const after = new Database(path, { readonly: true });
    expect(schemaVersion(after)).toBe(newer);
    expect(after.prepare('SELECT count(*) AS n FROM sqlite_master').get()).toEqual({ n: 0 });
    after.close();
  });

  it('rolls a failing migration back whole, keeping the versions before it', () => {
    const db = new Database(':memory:');
    const broken = [
      ...MIGRATIONS,
      { name: 'broken on purpose', sql: 'CREATE TABLE half (a); SELECT * FROM no_such_table;' },
    ];
    expect(thrownBy(() => migrate(db, 'test.db', broken))).toMatchObject({
      code: 'FERRY_E_STORE',
      message: expect.stringContaining('broken on purpose'),
    });
    expect(schemaVersion(db)).toBe(MIGRATIONS.length);
    expect(db.prepare("SELECT name FROM sqlite_master WHERE name = 'half'").all()).toEqual([]);
    db.close();
  });

  it('builds the one-active index from the same final statuses as the engine', () => {
    expect([...SCHEMA_FINAL_STATUSES].sort()).toEqual([...FINAL_STATUSES].sort());
  });

  it('admits exactly the release statuses of the store in its CHECK constraint', () => {
    expect([...SCHEMA_RELEASE_STATUSES].sort()).toEqual([...RELEASE_STATUSES].sort());
    const db = new Database(':memory:');
    migrate(db, ':memory:');
    const insert = (status: string) =>
      db
        .prepare(
          "INSERT INTO releases (app, env, version, artifact_url, status, created_at, updated_at) VALUES ('web', 'production', ?, 'file:///a', ?, 1, 1)",
        )
        .run(`v-${status}`, status);
    for (const status of RELEASE_STATUSES) insert(status);
    expect(sqliteCodeOf(() => insert('retired'))).toBe('SQLITE_CONSTRAINT_CHECK');
    db.close();
  });

  it("migrates a ledger of schema 1 to admit 'rolled-back', keeping every row, id and index", async () => {
    const path = join(dir, 'ferry.db');
    const old = new Database(path);
    migrate(old, path, MIGRATIONS.slice(0, 1));
    old
      .prepare(
        "INSERT INTO releases (id, app, env, version, artifact_url, checksum, status, reason, good_at, created_at, updated_at) VALUES (7, 'web', 'production', '1.0.0', 'file:///a', 'sha256:ab', 'good', 'ok', 20, 10, 20)",
      )
      .run();
    old.close();
    const store = openSqliteStore(path);
    expect(await store.getRelease('web', 'production', '1.0.0')).toStrictEqual({
      app: 'web',
      env: 'production',
      version: '1.0.0',
      artifactUrl: 'file:///a',
      checksum: 'sha256:ab',
      status: 'good',
      reason: 'ok',
      goodAt: 20,
      createdAt: 10,
      updatedAt: 20,
    });
    await store.markRelease('web', 'production', '1.0.0', 'rolled-back', 'rolled back to 0.9.0', 30);
    expect((await store.getRelease('web', 'production', '1.0.0'))?.status).toBe('rolled-back');
    await store.close();
    const check = new Database(path, { readonly: true });
    expect(check.prepare('SELECT id FROM releases').all()).toEqual([{ id: 7 }]);
    expect(check.prepare("SELECT name FROM sqlite_master WHERE name = 'releases_by_age'").all()).toHaveLength(
      1,
    );
    expect(check.pragma('integrity_check', { simple: true })).toBe('ok');
    check.close();
  });
});

const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));
const crashWriter = fileURLToPath(new URL('../test-support/crash-writer.ts', import.meta.url));

/** Runs the crash writer until it has acknowledged `atLeast` more saves, kill -9s it, returns the last acknowledged counter. */
function runAndKill(path: string, atLeast: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', crashWriter, path], {
      cwd: repoRoot,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    let first: number | undefined;
    let killed = false;
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      out += chunk;
      const acked = out.split('\n').slice(0, -1).map(Number);
      first ??= acked[0];
      const last = acked.at(-1);
      if (!killed && first !== undefined && last !== undefined && last - first + 1 >= atLeast) {
        killed = true;
        child.kill('SIGKILL');
      }
    });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (err += chunk));
    child.on('error', reject);
    child.on('close', (_code, signal) => {
      if (signal !== 'SIGKILL') return reject(new Error(`crash writer ended on its own (${signal}): ${err}`));
      // Every complete line was printed after its writes returned, even those that arrived after the kill.
      const acked = out.split('\n').slice(0, -1).map(Number);
      resolve(acked.at(-1) ?? 0);
    });
  });
}

describe('sqlite crash safety', () => {
  it('loses no acknowledged write when the writer is killed with SIGKILL, again and again', async () => {
    const path = join(dir, 'ferry.db');
    let acknowledged = 0;
    for (const burst of [40, 137, 71]) {
      acknowledged = Math.max(acknowledged, await runAndKill(path, burst));

      const check = new Database(path);
      expect(check.pragma('integrity_check', { simple: true })).toBe('ok');
      check.close();

      const store = openSqliteStore(path);
      const state = await store.getDeployment('d-crash');
      const events = await store.listEvents('d-crash');
      await store.close();
      const lastLogged = Number(events.at(-1)?.message.replace('saved ', ''));
      expect(state?.step).toBeGreaterThanOrEqual(acknowledged);
      expect(lastLogged).toBeGreaterThanOrEqual(acknowledged);
      // The state is saved before its event: at most one save may be ahead of the log.
      expect([lastLogged, lastLogged + 1]).toContain(state?.step);
      expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i + 1));
    }
  });
});
