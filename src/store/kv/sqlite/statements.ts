import type Database from 'better-sqlite3';

export interface MetaRow {
  readonly revision: number;
  readonly compacted: number;
  readonly last_lease: number;
}

export interface KeyRow {
  readonly key: Buffer;
  readonly value: string;
  readonly create_revision: number;
  readonly mod_revision: number;
  readonly version: number;
  readonly lease: number | null;
}

export interface HistoryRow {
  readonly revision: number;
  readonly key: Buffer;
  readonly type: 'put' | 'delete';
  readonly value: string | null;
  readonly expired: 0 | 1;
}

export interface LeaseRow {
  readonly id: number;
  readonly ttl_ms: number;
  readonly expires_at: number;
}

/** A byte range of keys; `high` undefined: to the end. `limit` -1: no limit. */
interface Bounds {
  low: Buffer;
  high: Buffer;
}

/**
 * Every statement of the key-value store, prepared once. Ranges come in two forms, bounded and to the
 * end, so that each is a plain range scan of the key index (an `@high IS NULL OR` would not be).
 */
export function prepareKvStatements(db: Database.Database) {
  return {
    meta: db.prepare<[], MetaRow>('SELECT revision, compacted, last_lease FROM kv_meta WHERE id = 1'),
    setRevision: db.prepare<{ revision: number }>('UPDATE kv_meta SET revision = @revision WHERE id = 1'),
    setCompacted: db.prepare<{ compacted: number }>('UPDATE kv_meta SET compacted = @compacted WHERE id = 1'),
    setLastLease: db.prepare<{ id: number }>('UPDATE kv_meta SET last_lease = @id WHERE id = 1'),

    getKey: db.prepare<{ key: Buffer }, KeyRow>('SELECT * FROM kv_keys WHERE key = @key'),
    range: db.prepare<Bounds & { limit: number }, KeyRow>(
      'SELECT * FROM kv_keys WHERE key >= @low AND key < @high ORDER BY key LIMIT @limit',
    ),
    rangeToEnd: db.prepare<{ low: Buffer; limit: number }, KeyRow>(
      'SELECT * FROM kv_keys WHERE key >= @low ORDER BY key LIMIT @limit',
    ),
    keysIn: db.prepare<Bounds, { key: Buffer }>(
      'SELECT key FROM kv_keys WHERE key >= @low AND key < @high ORDER BY key',
    ),
    keysToEnd: db.prepare<{ low: Buffer }, { key: Buffer }>(
      'SELECT key FROM kv_keys WHERE key >= @low ORDER BY key',
    ),
    keysOfLease: db.prepare<{ lease: number }, { key: Buffer }>(
      'SELECT key FROM kv_keys WHERE lease = @lease ORDER BY key',
    ),
    // A put keeps the key's create_revision and counts its version; a new key starts at version 1.
    putKey: db.prepare<{ key: Buffer; value: string; revision: number; lease: number | null }>(`
      INSERT INTO kv_keys (key, value, create_revision, mod_revision, version, lease)
      VALUES (@key, @value, @revision, @revision, 1, @lease)
      ON CONFLICT (key) DO UPDATE SET
        value = excluded.value, mod_revision = excluded.mod_revision, version = version + 1,
        lease = excluded.lease`),
    deleteKey: db.prepare<{ key: Buffer }>('DELETE FROM kv_keys WHERE key = @key'),

    addHistory: db.prepare<{
      revision: number;
      seq: number;
      key: Buffer;
      type: 'put' | 'delete';
      value: string | null;
      expired: 0 | 1;
    }>(
      `INSERT INTO kv_history (revision, seq, key, type, value, expired)
       VALUES (@revision, @seq, @key, @type, @value, @expired)`,
    ),
    history: db.prepare<Bounds & { after: number; upTo: number }, HistoryRow>(`
      SELECT revision, key, type, value, expired FROM kv_history
      WHERE revision > @after AND revision <= @upTo AND key >= @low AND key < @high
      ORDER BY revision, seq`),
    historyToEnd: db.prepare<{ low: Buffer; after: number; upTo: number }, HistoryRow>(`
      SELECT revision, key, type, value, expired FROM kv_history
      WHERE revision > @after AND revision <= @upTo AND key >= @low
      ORDER BY revision, seq`),
    forgetHistory: db.prepare<{ before: number }>('DELETE FROM kv_history WHERE revision < @before'),

    addLease: db.prepare<LeaseRow>(
      'INSERT INTO kv_leases (id, ttl_ms, expires_at) VALUES (@id, @ttl_ms, @expires_at)',
    ),
    getLease: db.prepare<{ id: number }, LeaseRow>('SELECT * FROM kv_leases WHERE id = @id'),
    renewLease: db.prepare<{ id: number; now: number }>(
      'UPDATE kv_leases SET expires_at = @now + ttl_ms WHERE id = @id',
    ),
    renewAllLeases: db.prepare<{ now: number }>('UPDATE kv_leases SET expires_at = @now + ttl_ms'),
    deleteLease: db.prepare<{ id: number }>('DELETE FROM kv_leases WHERE id = @id'),
    dueLeases: db.prepare<{ now: number }, { id: number }>(
      'SELECT id FROM kv_leases WHERE expires_at <= @now ORDER BY expires_at, id',
    ),
    nextExpiry: db.prepare<[], { at: number | null }>('SELECT MIN(expires_at) AS at FROM kv_leases'),
  };
}

export type KvStatements = ReturnType<typeof prepareKvStatements>;
