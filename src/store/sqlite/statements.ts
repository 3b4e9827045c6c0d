import type Database from 'better-sqlite3';
import { ACTIVE_DEPLOYMENT_SQL } from './migrations.js';
import type {
  AuditRow,
  DeploymentParams,
  EventRow,
  InstanceRow,
  LockRow,
  ReleaseRow,
  StateRow,
} from './rows.js';

type Key = { app: string; env: string };
type ReleaseKey = Key & { version: string };

/** Every fixed statement the store runs, prepared once when the store opens. */
export function prepareStatements(db: Database.Database) {
  return {
    upsertRelease: db.prepare<Omit<ReleaseRow, 'status' | 'reason' | 'good_at' | 'updated_at'>, ReleaseRow>(`
      INSERT INTO releases (app, env, version, artifact_url, checksum, created_at, updated_at)
      VALUES (@app, @env, @version, @artifact_url, @checksum, @created_at, @created_at)
      ON CONFLICT (app, env, version) DO UPDATE SET
        artifact_url = excluded.artifact_url,
        checksum = excluded.checksum,
        updated_at = CASE
          WHEN artifact_url IS NOT excluded.artifact_url OR checksum IS NOT excluded.checksum
          THEN excluded.created_at ELSE updated_at END
      RETURNING *`),
    getRelease: db.prepare<ReleaseKey, ReleaseRow>(
      'SELECT * FROM releases WHERE app = @app AND env = @env AND version = @version',
    ),
    listReleases: db.prepare<Key, ReleaseRow>(
      'SELECT * FROM releases WHERE app = @app AND env = @env ORDER BY created_at DESC, id DESC',
    ),
    markRelease: db.prepare<ReleaseKey & { status: string; reason: string; at: number }>(`
      UPDATE releases SET status = @status, reason = @reason, updated_at = @at,
        good_at = CASE WHEN @status = 'good' THEN @at ELSE good_at END
      WHERE app = @app AND env = @env AND version = @version`),

    insertDeployment: db.prepare<DeploymentParams>(`
      INSERT INTO deployments (id, app, env, kind, from_version, to_version, status, phase, state, created_at, updated_at)
      VALUES (@id, @app, @env, @kind, @from_version, @to_version, @status, @phase, @state, @created_at, @updated_at)`),
    updateDeployment: db.prepare<DeploymentParams>(`
      UPDATE deployments SET app = @app, env = @env, kind = @kind, from_version = @from_version,
        to_version = @to_version, status = @status, phase = @phase, state = @state,
        created_at = @created_at, updated_at = @updated_at
      WHERE id = @id`),
    getDeployment: db.prepare<{ id: string }, StateRow>('SELECT state FROM deployments WHERE id = @id'),
    saveServedReport: db.prepare<{ id: string; report: string }>(
      'UPDATE deployments SET served_report = @report WHERE id = @id',
    ),
    getServedReport: db.prepare<{ id: string }, { served_report: string | null }>(
      'SELECT served_report FROM deployments WHERE id = @id',
    ),
    activeDeployment: db.prepare<Key, StateRow>(
      `SELECT state FROM deployments WHERE app = @app AND env = @env AND ${ACTIVE_DEPLOYMENT_SQL}`,
    ),
    // Ordered like the partial index, so recovery reads only the active rows, never the history.
    activeDeployments: db.prepare<[], StateRow>(
      `SELECT state FROM deployments WHERE ${ACTIVE_DEPLOYMENT_SQL} ORDER BY app, env`,
    ),
    nextEventSeq: db.prepare<{ id: string }, { next: number }>(
      'SELECT coalesce(max(seq), 0) + 1 AS next FROM deployment_events WHERE deployment_id = @id',
    ),
    insertEvent: db.prepare<EventRow>(`
      INSERT INTO deployment_events (deployment_id, seq, at, type, message, data)
      VALUES (@deployment_id, @seq, @at, @type, @message, @data)`),
    listEvents: db.prepare<{ id: string; after: number }, EventRow>(
      'SELECT * FROM deployment_events WHERE deployment_id = @id AND seq > @after ORDER BY seq',
    ),

    putInstance: db.prepare<InstanceRow>(`
      INSERT OR REPLACE INTO instances (id, app, env, version, port, pid, pid_start, state, restarts, created_at, updated_at, last_exit)
      VALUES (@id, @app, @env, @version, @port, @pid, @pid_start, @state, @restarts, @created_at, @updated_at, @last_exit)`),
    getInstance: db.prepare<{ id: string }, InstanceRow>('SELECT * FROM instances WHERE id = @id'),
    deleteInstance: db.prepare<{ id: string }>('DELETE FROM instances WHERE id = @id'),

    getCurrent: db.prepare<Key, { version: string }>(
      'SELECT version FROM current WHERE app = @app AND env = @env',
    ),
    setCurrent: db.prepare<Key & { version: string }>(`
      INSERT INTO current (app, env, version) VALUES (@app, @env, @version)
      ON CONFLICT (app, env) DO UPDATE SET version = excluded.version`),

    // One statement, so taking a lock is atomic even between processes sharing the file.
    acquireLock: db.prepare<LockRow>(`
      INSERT INTO locks (key, owner, reason, expires_at, created_at)
      VALUES (@key, @owner, @reason, @expires_at, @created_at)
      ON CONFLICT (key) DO UPDATE SET owner = excluded.owner, reason = excluded.reason,
        expires_at = excluded.expires_at, created_at = excluded.created_at
      WHERE locks.owner = excluded.owner
        OR (locks.expires_at IS NOT NULL AND locks.expires_at <= excluded.created_at)`),
    releaseLock: db.prepare<{ key: string; owner: string }>(
      'DELETE FROM locks WHERE key = @key AND owner = @owner',
    ),
    getLock: db.prepare<{ key: string; now: number }, LockRow>(
      'SELECT * FROM locks WHERE key = @key AND (expires_at IS NULL OR expires_at > @now)',
    ),

    insertAudit: db.prepare<AuditRow>(
      'INSERT INTO audit (at, actor, action, target, detail) VALUES (@at, @actor, @action, @target, @detail)',
    ),
    listAudit: db.prepare<{ limit: number }, AuditRow>(
      'SELECT at, actor, action, target, detail FROM audit ORDER BY at DESC, id DESC LIMIT @limit',
    ),
  };
}

export type Statements = ReturnType<typeof prepareStatements>;

/**
 * Statements whose WHERE clause depends on which filter fields are set. Each shape is prepared the
 * first time it is used and reused after, so an optional filter never defeats an index.
 */
export class FilteredQueries {
  readonly #db: Database.Database;
  readonly #cache = new Map<string, Database.Statement<Record<string, unknown>, unknown>>();

  constructor(db: Database.Database) {
    this.#db = db;
  }

  /** Runs `SELECT columns FROM table [WHERE f = @f AND ...] ORDER BY order [LIMIT @limit]`. */
  all<Row>(
    table: string,
    columns: string,
    filter: Readonly<Record<string, string | undefined>>,
    order: string,
    limit?: number,
  ): Row[] {
    const fields = Object.keys(filter).filter((field) => filter[field] !== undefined);
    const where =
      fields.length === 0 ? '' : ` WHERE ${fields.map((field) => `${field} = @${field}`).join(' AND ')}`;
    const sql = `SELECT ${columns} FROM ${table}${where} ORDER BY ${order}${limit === undefined ? '' : ' LIMIT @limit'}`;
    let statement = this.#cache.get(sql);
    if (statement === undefined) {
      statement = this.#db.prepare<Record<string, unknown>, unknown>(sql);
      this.#cache.set(sql, statement);
    }
    const params: Record<string, unknown> = {};
    for (const field of fields) params[field] = filter[field];
    if (limit !== undefined) params.limit = limit;
    return statement.all(params) as Row[];
  }
}
