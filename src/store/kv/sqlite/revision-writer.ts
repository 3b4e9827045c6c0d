import { keyBytes, prefixEnd } from '../key-range.js';
import type { KvStatements } from './statements.js';

/**
 * The writes of one revision, applied inside the caller's SQLite transaction: each change to
 * kv_keys gets its history row, in order. The revision is only taken (kv_meta) when something
 * changed: a delete of an absent key changes nothing, as in etcd.
 */
export class RevisionWriter {
  #seq = 0;
  readonly #sql: KvStatements;
  readonly revision: number;

  constructor(sql: KvStatements, revision: number) {
    this.#sql = sql;
    this.revision = revision;
  }

  get changed(): boolean {
    return this.#seq > 0;
  }

  put(key: string, value: string, lease: number | null): void {
    const bytes = keyBytes(key);
    this.#sql.putKey.run({ key: bytes, value, revision: this.revision, lease });
    this.#record(bytes, 'put', value, false);
  }

  /** Deletes the key if it exists; `expired` marks a delete done by a lease's end. */
  delete(key: string | Buffer, expired = false): void {
    const bytes = typeof key === 'string' ? keyBytes(key) : key;
    if (this.#sql.deleteKey.run({ key: bytes }).changes > 0) this.#record(bytes, 'delete', null, expired);
  }

  /** Deletes every key under `prefix`, in key order. */
  deletePrefix(prefix: string): void {
    const low = keyBytes(prefix);
    const high = prefixEnd(low);
    const rows = high === undefined ? this.#sql.keysToEnd.all({ low }) : this.#sql.keysIn.all({ low, high });
    for (const { key } of rows) this.delete(key);
  }

  /** Takes the revision when anything changed; the store's revision after this write. */
  commit(): number {
    if (!this.changed) return this.revision - 1;
    this.#sql.setRevision.run({ revision: this.revision });
    return this.revision;
  }

  #record(key: Buffer, type: 'put' | 'delete', value: string | null, expired: boolean): void {
    this.#sql.addHistory.run({
      revision: this.revision,
      seq: this.#seq++,
      key,
      type,
      value,
      expired: expired ? 1 : 0,
    });
  }
}
