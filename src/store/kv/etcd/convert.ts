import type { ICompare, IKeyValue, IRequestOp } from 'etcd3';
import { keyBytes, prefixEnd } from '../key-range.js';
import type { KvCompare, KvEntry, KvOp } from '../kv.js';

/**
 * The store's requests as etcd's, under an installation prefix: every key etcd sees is the prefix's
 * bytes followed by the store key's, and every key it returns has the prefix taken off.
 */
export class EtcdKeys {
  readonly #prefix: Buffer;

  constructor(prefix: string) {
    this.#prefix = keyBytes(prefix);
  }

  key(key: string): Buffer {
    return Buffer.concat([this.#prefix, keyBytes(key)]);
  }

  storeKey(key: Buffer): string {
    return key.subarray(this.#prefix.length).toString('utf8');
  }

  /** etcd's [key, range_end) of every key under `prefix`. */
  range(prefix: string): { key: Buffer; rangeEnd: Buffer } {
    const key = this.key(prefix);
    // An empty key range means every key: etcd spells that key "\0", range_end "\0".
    if (key.length === 0) return { key: Buffer.from([0]), rangeEnd: Buffer.from([0]) };
    return { key, rangeEnd: prefixEnd(key) ?? Buffer.from([0]) };
  }

  compare(compare: KvCompare): ICompare {
    return 'modRevision' in compare
      ? { key: this.key(compare.key), target: 'Mod', result: 'Equal', mod_revision: compare.modRevision }
      : {
          key: this.key(compare.key),
          target: 'Value',
          result: 'Equal',
          value: Buffer.from(compare.value, 'utf8'),
        };
  }

  op(op: KvOp): IRequestOp {
    if (op.type === 'put') {
      return {
        request_put: {
          key: this.key(op.key),
          value: Buffer.from(op.value, 'utf8'),
          ...(op.lease === undefined ? {} : { lease: op.lease }),
        },
      };
    }
    if (op.type === 'delete') return { request_delete_range: { key: this.key(op.key) } };
    const { key, rangeEnd } = this.range(op.prefix);
    return { request_delete_range: { key, range_end: rangeEnd } };
  }

  entry(kv: IKeyValue): KvEntry {
    return {
      key: this.storeKey(kv.key),
      value: kv.value.toString('utf8'),
      createRevision: Number(kv.create_revision),
      modRevision: Number(kv.mod_revision),
      version: Number(kv.version),
      ...(kv.lease === '0' ? {} : { lease: kv.lease }),
    };
  }
}
