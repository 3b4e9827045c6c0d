import type Database from 'better-sqlite3';
import { FerryError, messageOf } from '../../errors/ferry-error.js';

/**
 * One schema change. Migrations are append-only: the schema version stored in PRAGMA user_version is
 * the number of migrations applied, so never edit or reorder one that has shipped; add a new one.
 */
export interface Migration {
  readonly name: string;
  readonly sql: string;
}

/**
 * The statuses of a finished deployment, frozen as the schema knows them. The partial unique index
 * below is built from this list; if the engine's FINAL_STATUSES ever changes, a new migration must
 * rebuild that index (a test compares the two).
 */
export const SCHEMA_FINAL_STATUSES = ['succeeded', 'failed', 'rolled-back', 'aborted'] as const;

const finalList = SCHEMA_FINAL_STATUSES.map((status) => `'${status}'`).join(', ');

/** The SQL condition that selects non-final deployments; queries must repeat it verbatim for the index. */
export const ACTIVE_DEPLOYMENT_SQL = `status NOT IN (${finalList})`;

/**
 * The release statuses the releases table admits, frozen as migration 2 wrote its CHECK constraint;
 * a new status needs a new migration (a test compares this with the store's RELEASE_STATUSES).
 */
export const SCHEMA_RELEASE_STATUSES = ['new', 'good', 'bad', 'rolled-back'] as const;

export const MIGRATIONS: readonly Migration[] = [
  {
    name: 'initial schema',
    sql: `
      CREATE TABLE releases (
        id INTEGER PRIMARY KEY,
        app TEXT NOT NULL,
        env TEXT NOT NULL,
        version TEXT NOT NULL,
        artifact_url TEXT NOT NULL,
        checksum TEXT,
        status TEXT NOT NULL DEFAULT 'new' CHECK (status IN ('new', 'good', 'bad')),
        reason TEXT,
        good_at INTEGER,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL,
        UNIQUE (app, env, version)
      );
      CREATE INDEX releases_by_age ON releases (app, env, created_at);

      -- ord keeps insertion order stable for equal created_at (an implicit rowid may change on VACUUM).
      CREATE TABLE deployments (
        ord INTEGER PRIMARY KEY,
        id TEXT NOT NULL UNIQUE,
        app TEXT NOT NULL,
        env TEXT NOT NULL,
        kind TEXT NOT NULL,
        from_version TEXT,
        to_version TEXT NOT NULL,
        status TEXT NOT NULL,
        phase TEXT NOT NULL,
        state TEXT NOT NULL CHECK (json_valid(state)),
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL
      );
      -- The one-active-deployment rule, enforced by the database rather than by a check-then-insert.
      CREATE UNIQUE INDEX deployments_one_active ON deployments (app, env) WHERE ${ACTIVE_DEPLOYMENT_SQL};
      CREATE INDEX deployments_by_app ON deployments (app, env, created_at);
      CREATE INDEX deployments_by_age ON deployments (created_at);

      CREATE TABLE deployment_events (
        deployment_id TEXT NOT NULL REFERENCES deployments (id) ON DELETE CASCADE,
        seq INTEGER NOT NULL,
        at INTEGER NOT NULL,
        type TEXT NOT NULL,
        message TEXT NOT NULL,
        data TEXT CHECK (data IS NULL OR json_valid(data)),
        PRIMARY KEY (deployment_id, seq)
      ) WITHOUT ROWID;

      CREATE TABLE instances (
        id TEXT PRIMARY KEY,
        app TEXT NOT NULL,
        env TEXT NOT NULL,
        version TEXT NOT NULL,
        port INTEGER NOT NULL,
        pid INTEGER,
        pid_start INTEGER,
        state TEXT NOT NULL,
        restarts INTEGER NOT NULL,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL
      );
      CREATE INDEX instances_by_release ON instances (app, env, version);

      CREATE TABLE current (
        app TEXT NOT NULL,
        env TEXT NOT NULL,
        version TEXT NOT NULL,
        PRIMARY KEY (app, env)
      ) WITHOUT ROWID;

      CREATE TABLE locks (
        key TEXT PRIMARY KEY,
        owner TEXT NOT NULL,
        reason TEXT NOT NULL,
        expires_at INTEGER,
        created_at INTEGER NOT NULL
      );

      CREATE TABLE audit (
        id INTEGER PRIMARY KEY,
        at INTEGER NOT NULL,
        actor TEXT NOT NULL,
        action TEXT NOT NULL,
        target TEXT NOT NULL,
        detail TEXT CHECK (detail IS NULL OR json_valid(detail))
      );
      CREATE INDEX audit_by_time ON audit (at);
    `,
  },
  {
    // SQLite cannot change a CHECK constraint in place: the table is rebuilt, rows and ids kept.
    name: "release status 'rolled-back'",
    sql: `
      CREATE TABLE releases_v2 (
        id INTEGER PRIMARY KEY,
        app TEXT NOT NULL,
        env TEXT NOT NULL,
        version TEXT NOT NULL,
        artifact_url TEXT NOT NULL,
        checksum TEXT,
        status TEXT NOT NULL DEFAULT 'new'
          CHECK (status IN (${SCHEMA_RELEASE_STATUSES.map((s) => `'${s}'`).join(', ')})),
        reason TEXT,
        good_at INTEGER,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL,
        UNIQUE (app, env, version)
      );
      INSERT INTO releases_v2 (id, app, env, version, artifact_url, checksum, status, reason, good_at, created_at, updated_at)
        SELECT id, app, env, version, artifact_url, checksum, status, reason, good_at, created_at, updated_at
        FROM releases;
      DROP TABLE releases;
      ALTER TABLE releases_v2 RENAME TO releases;
      CREATE INDEX releases_by_age ON releases (app, env, created_at);
    `,
  },
  {
    // The served-request report, written by the runtime beside the engine's state (never part of
    // it); and how each instance's process last ended, for the process view.
    name: 'deployment served-request report; instance last exit',
    sql: `
      ALTER TABLE deployments ADD COLUMN served_report TEXT CHECK (served_report IS NULL OR json_valid(served_report));
      ALTER TABLE instances ADD COLUMN last_exit TEXT CHECK (last_exit IS NULL OR json_valid(last_exit));
    `,
  },
  {
    // The control plane's records moved to the key-value store (control.db): once this row exists
    // the tables above are history, never copied again (a lost control.db must not bring them back).
    name: 'records moved to the key-value store',
    sql: `
      CREATE TABLE records_moved (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        at INTEGER NOT NULL
      );
    `,
  },
];

/** The schema version a database has, from its header. */
export function schemaVersion(db: Database.Database): number {
  return db.pragma('user_version', { simple: true }) as number;
}

/**
 * Brings the database up to the newest schema. Each migration runs in its own immediate transaction
 * together with its user_version bump, so a crash leaves the schema at a whole version, and two
 * processes opening the same file at once apply each migration exactly once.
 */
export function migrate(
  db: Database.Database,
  where: string,
  migrations: readonly Migration[] = MIGRATIONS,
): void {
  const found = schemaVersion(db);
  if (found > migrations.length) {
    throw new FerryError(
      'FERRY_E_STORE',
      `${where}: the database has schema version ${found}, newer than this Ferry knows (up to ${migrations.length}); ` +
        'it was written by a newer Ferry: upgrade Ferry to open it',
      { where, expected: `schema version ${migrations.length} or lower`, got: `schema version ${found}` },
    );
  }
  migrations.forEach((migration, index) => {
    const version = index + 1;
    if (version <= found) return;
    const apply = db.transaction(() => {
      // Another process may have applied it between our read and our write lock.
      if (schemaVersion(db) >= version) return;
      db.exec(migration.sql);
      db.pragma(`user_version = ${version}`);
    });
    try {
      apply.immediate();
    } catch (error) {
      throw new FerryError(
        'FERRY_E_STORE',
        `${where}: schema migration ${version} (${migration.name}) failed and was rolled back: ${messageOf(error)}`,
        { where, migration: version },
        { cause: error },
      );
    }
  });
}
