import path from 'node:path';
import Database from 'better-sqlite3';
import { keyBytes, prefixEnd } from '../../src/store/kv/key-range.js';

/**
 * The control plane's records exactly as `ferry up` stored them, read from its key-value store
 * (control.db) without taking the writer's lock, so a test can look while the daemon runs. For what
 * no API route shows (the audit trail) or to prove what was written, not what is answered.
 */
export function storedValues<T>(home: string, prefix: string): Array<{ key: string; value: T }> {
  const db = new Database(path.join(home, 'control.db'), { readonly: true, fileMustExist: true });
  try {
    const rows = db
      .prepare(
        // Insertion order: the create revision (keys of one collection may sort newest first).
        'SELECT CAST(key AS TEXT) AS key, value FROM kv_keys WHERE key >= ? AND key < ? ORDER BY create_revision',
      )
      .all(keyBytes(prefix), prefixEnd(keyBytes(prefix))) as Array<{ key: string; value: string }>;
    return rows.map((row) => ({ key: row.key, value: JSON.parse(row.value) as T }));
  } finally {
    db.close();
  }
}

export interface StoredAudit {
  readonly at: number;
  readonly actor: string;
  readonly action: string;
  readonly target: string;
  readonly detail?: Record<string, unknown>;
}

/** The audit entries of one action, oldest first. */
export function storedAudit(home: string, action: string): StoredAudit[] {
  return storedValues<StoredAudit>(home, '/audit/')
    .map((entry) => entry.value)
    .filter((entry) => entry.action === action);
}
