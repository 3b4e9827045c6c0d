import type { Migration } from '../../sqlite/migrations.js';

/**
 * The key-value store's schema, in its own file (not ferry.db). Append-only, as every migration list:
 * PRAGMA user_version counts the migrations applied.
 *
 * Keys are BLOBs of their UTF-8 bytes so that SQLite orders and ranges them bytewise, as etcd does
 * (a prefix is `key >= prefix AND key < prefixEnd`, on the primary key's index). kv_history holds
 * every change since `compacted`, with values, for watches that replay; kv_meta's revision is the
 * store's, and lease ids come from last_lease so that none is ever reused.
 */
export const KV_MIGRATIONS: readonly Migration[] = [
  {
    name: 'key-value store',
    sql: `
      CREATE TABLE kv_meta (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        revision INTEGER NOT NULL,
        compacted INTEGER NOT NULL,
        last_lease INTEGER NOT NULL
      );
      INSERT INTO kv_meta (id, revision, compacted, last_lease) VALUES (1, 0, 0, 0);

      CREATE TABLE kv_leases (
        id INTEGER PRIMARY KEY,
        ttl_ms INTEGER NOT NULL,
        expires_at INTEGER NOT NULL
      );
      CREATE INDEX kv_leases_by_expiry ON kv_leases (expires_at);

      CREATE TABLE kv_keys (
        key BLOB NOT NULL PRIMARY KEY,
        value TEXT NOT NULL,
        create_revision INTEGER NOT NULL,
        mod_revision INTEGER NOT NULL,
        version INTEGER NOT NULL,
        lease INTEGER REFERENCES kv_leases (id)
      );
      CREATE INDEX kv_keys_by_lease ON kv_keys (lease) WHERE lease IS NOT NULL;

      CREATE TABLE kv_history (
        revision INTEGER NOT NULL,
        seq INTEGER NOT NULL,
        key BLOB NOT NULL,
        type TEXT NOT NULL CHECK (type IN ('put', 'delete')),
        value TEXT,
        expired INTEGER NOT NULL DEFAULT 0,
        PRIMARY KEY (revision, seq)
      );
    `,
  },
];
