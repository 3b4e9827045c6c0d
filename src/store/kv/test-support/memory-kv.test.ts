import { describe, expect, it } from 'vitest';
import { MemoryKv } from './memory-kv.js';

/** The test double keeps the contract's semantics that code under test relies on. */
describe('MemoryKv', () => {
  it('advances one revision per write, and none for a transaction that changes nothing', async () => {
    const kv = new MemoryKv();
    expect(await kv.revision()).toBe(0);
    expect(await kv.put('/a', '1')).toBe(1);
    expect(await kv.put('/a', '2')).toBe(2);
    expect(await kv.get('/a')).toEqual({
      key: '/a',
      value: '2',
      createRevision: 1,
      modRevision: 2,
      version: 2,
    });
    const failed = await kv.txn({
      compare: [{ key: '/a', modRevision: 1 }],
      success: [{ type: 'delete', key: '/a' }],
    });
    expect(failed).toEqual({ succeeded: false, revision: 2 });
    expect(await kv.delete('/missing')).toBe(2);
  });

  it('compares modRevision (0: absent) and values, and applies a branch as one write', async () => {
    const kv = new MemoryKv();
    const create = {
      compare: [{ key: '/k', modRevision: 0 }],
      success: [{ type: 'put', key: '/k', value: 'v' }],
    } as const;
    expect(await kv.txn(create)).toEqual({ succeeded: true, revision: 1 });
    expect(await kv.txn(create)).toEqual({ succeeded: false, revision: 1 });
    const both = await kv.txn({
      compare: [{ key: '/k', value: 'v' }],
      success: [
        { type: 'put', key: '/x', value: '1' },
        { type: 'delete', key: '/k' },
      ],
    });
    expect(both).toEqual({ succeeded: true, revision: 2 });
    expect(await kv.get('/k')).toBeUndefined();
    expect(await kv.txn({ compare: [{ key: '/k', value: 'v' }], success: [] })).toMatchObject({
      succeeded: false,
    });
  });

  it('ranges by prefix in key order, with the revision read at', async () => {
    const kv = new MemoryKv();
    for (const key of ['/h/b', '/h/a', '/hx', '/g']) await kv.put(key, key);
    const range = await kv.range('/h/');
    expect(range.entries.map((entry) => entry.key)).toEqual(['/h/a', '/h/b']);
    expect(range.revision).toBe(4);
    expect((await kv.range('/h', { limit: 2 })).entries.map((entry) => entry.key)).toEqual(['/h/a', '/h/b']);
  });
});
