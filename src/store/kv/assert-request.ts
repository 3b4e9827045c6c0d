import { describeValue } from '../../errors/ferry-error.js';
import { invalidRequest, leaseExpired } from './errors.js';
import type { KvCompare, KvOp, KvTxn, LeaseId } from './kv.js';

/**
 * The checks every driver makes before it touches anything, so that a malformed request fails the
 * same way on SQLite and on etcd (FERRY_E_STORE_REQUEST_INVALID) and changes nothing.
 */

// A lone surrogate has no UTF-8 form: the store would silently keep U+FFFD instead.
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

function isText(value: unknown): value is string {
  return typeof value === 'string' && !LONE_SURROGATE.test(value);
}

function shown(value: unknown): string {
  return typeof value === 'string' ? 'a string with a lone surrogate' : describeValue(value);
}

export function assertKey(key: unknown, what = 'key'): asserts key is string {
  if (!isText(key) || key === '') {
    throw invalidRequest(what, 'a non-empty string of well-formed text', key === '' ? '""' : shown(key));
  }
}

/** A prefix may be empty: every key. */
export function assertPrefix(prefix: unknown, what = 'prefix'): asserts prefix is string {
  if (!isText(prefix)) throw invalidRequest(what, 'a string of well-formed text', shown(prefix));
}

export function assertValue(value: unknown, what = 'value'): asserts value is string {
  if (!isText(value)) throw invalidRequest(what, 'a string of well-formed text', shown(value));
}

export function assertRevision(revision: unknown, what: string): asserts revision is number {
  if (typeof revision !== 'number' || !Number.isSafeInteger(revision) || revision < 0) {
    throw invalidRequest(what, 'a revision (an integer of 0 or more)', describeValue(revision));
  }
}

export function assertLimit(limit: unknown): void {
  if (limit === undefined) return;
  if (typeof limit !== 'number' || !Number.isSafeInteger(limit) || limit < 1) {
    throw invalidRequest('limit', 'an integer of 1 or more', describeValue(limit));
  }
}

export function assertTtl(ttlMs: unknown): asserts ttlMs is number {
  if (typeof ttlMs !== 'number' || !Number.isFinite(ttlMs) || ttlMs <= 0 || ttlMs > 2 ** 31 * 1000) {
    throw invalidRequest('ttlMs', 'a lease TTL in milliseconds, more than 0', describeValue(ttlMs));
  }
}

/**
 * A lease id is a positive decimal integer (etcd's are int64). Any other names no lease, and a
 * write with it fails as a write with an ended lease does.
 */
export function assertLeaseId(id: unknown, operation: string): asserts id is LeaseId {
  if (!isLeaseId(id)) {
    throw leaseExpired(typeof id === 'string' ? JSON.stringify(id) : describeValue(id), operation);
  }
}

export function isLeaseId(id: unknown): id is LeaseId {
  return typeof id === 'string' && /^[1-9][0-9]{0,18}$/.test(id) && BigInt(id) < 2n ** 63n;
}

/** Checks a transaction's compares and both branches (as etcd checks the whole request). */
export function assertTxn(txn: KvTxn): void {
  txn.compare.forEach((compare, i) => assertCompare(compare, `compare[${i}]`));
  assertBranch(txn.success, 'success');
  assertBranch(txn.failure ?? [], 'failure');
}

function assertCompare(compare: KvCompare, what: string): void {
  assertKey(compare.key, `${what}.key`);
  if ('modRevision' in compare) assertRevision(compare.modRevision, `${what}.modRevision`);
  else assertValue(compare.value, `${what}.value`);
}

/**
 * Checks each op, and that the branch writes no key twice: two puts of one key, or a put under a
 * delete or delete-prefix of the same branch (etcd: "duplicate key given in txn request").
 */
function assertBranch(ops: readonly KvOp[], branch: string): void {
  const puts = new Set<string>();
  ops.forEach((op, i) => {
    const what = `${branch}[${i}]`;
    if (op.type === 'put') {
      assertKey(op.key, `${what}.key`);
      assertValue(op.value, `${what}.value`);
      if (op.lease !== undefined) assertLeaseId(op.lease, `put ${JSON.stringify(op.key)}`);
      if (puts.has(op.key)) {
        throw invalidRequest(`${what}.key`, 'each key written once per transaction', JSON.stringify(op.key));
      }
      puts.add(op.key);
    } else if (op.type === 'delete') {
      assertKey(op.key, `${what}.key`);
    } else if (op.type === 'delete-prefix') {
      assertPrefix(op.prefix, `${what}.prefix`);
    } else {
      throw invalidRequest(`${what}.type`, 'put, delete or delete-prefix', describeValue((op as KvOp).type));
    }
  });
  ops.forEach((op, i) => {
    if (op.type === 'put') return;
    const covers = (key: string) => (op.type === 'delete' ? key === op.key : key.startsWith(op.prefix));
    const clash = [...puts].find(covers);
    if (clash !== undefined) {
      throw invalidRequest(
        `${branch}[${i}]`,
        'no delete of a key the same transaction puts',
        `a ${op.type} that covers ${JSON.stringify(clash)}`,
      );
    }
  });
}
