import { describe, expect, it } from 'vitest';
import { isFerryError } from '../../errors/ferry-error.js';
import { draftRunning } from '../../protocol/test-support/messages.js';
import { openSqliteKvStore } from '../../store/kv/sqlite-kv.js';
import type { DesiredChange } from './desired-states.js';
import { desiredStateKey, KvDesiredStates } from './kv-desired-states.js';

function changes(): { seen: DesiredChange[]; listener: (change: DesiredChange) => void } {
  const seen: DesiredChange[] = [];
  return { seen, listener: (change) => seen.push(change) };
}

async function settle(): Promise<void> {
  await new Promise((resolve) => setImmediate(resolve));
}

describe('KvDesiredStates', () => {
  it("keeps a host's desired state at /hosts/<id>/desired, its revision the key's modRevision", async () => {
    const kv = await openSqliteKvStore(':memory:');
    const states = new KvDesiredStates(kv);
    await kv.put('/other', 'x');
    const doc = await states.put('web/1 é', draftRunning('1.0.0'));
    const entry = await kv.get('/hosts/web%2F1%20%C3%A9/desired');
    expect(desiredStateKey('web/1 é')).toBe('/hosts/web%2F1%20%C3%A9/desired');
    expect(doc).toEqual({ host: 'web/1 é', revision: entry?.modRevision, ...draftRunning('1.0.0') });
    // The value holds neither host nor revision: the key and the store give them.
    expect(JSON.parse(entry?.value ?? '')).toEqual(draftRunning('1.0.0'));
    expect((await states.get('web/1 é')).doc).toEqual(doc);
    expect(await states.get('nobody')).toEqual({ doc: null, revision: await kv.revision() });
  });

  it('writes with a compare-and-swap on the revision when asked (0: none yet)', async () => {
    const states = new KvDesiredStates(await openSqliteKvStore(':memory:'));
    const first = await states.put('h1', draftRunning('1.0.0'), { ifRevision: 0 });
    expect(first?.revision).toBeGreaterThan(0);
    expect(await states.put('h1', draftRunning('2.0.0'), { ifRevision: 0 })).toBeNull();
    const second = await states.put('h1', draftRunning('2.0.0'), { ifRevision: first?.revision ?? -1 });
    expect(second?.apps[0]?.current).toBe('2.0.0');
    expect(await states.put('h1', draftRunning('3.0.0'), { ifRevision: first?.revision ?? -1 })).toBeNull();
    expect((await states.get('h1')).doc?.revision).toBe(second?.revision);
  });

  it('refuses to write a document that is not a valid desired state, naming the field', async () => {
    const states = new KvDesiredStates(await openSqliteKvStore(':memory:'));
    const bad = { apps: [{ ...draftRunning('1.0.0').apps[0], releases: [{ version: '' }] }] };
    const error = await states.put('h1', bad as never).catch((e: unknown) => e);
    expect(isFerryError(error, 'FERRY_E_INTERNAL')).toBe(true);
    expect((error as Error).message).toMatch(/desired\.apps\.0\.releases\.0\.version/);
    expect((await states.get('h1')).doc).toBeNull();
  });

  it('watches one host from a revision: later changes in order, deletions as null, not other hosts', async () => {
    const kv = await openSqliteKvStore(':memory:');
    const states = new KvDesiredStates(kv);
    const before = await states.put('h1', draftRunning('1.0.0'));
    const { seen, listener } = changes();
    const watch = states.watch('h1', before?.revision ?? 0, listener, () => undefined);
    await states.put('h2', draftRunning('9.0.0'));
    await kv.put('/hosts/h1/desired-notes', '{}');
    const second = await states.put('h1', draftRunning('2.0.0'));
    await kv.delete(desiredStateKey('h1'));
    await settle();
    expect(seen).toEqual([
      { doc: second, revision: second?.revision },
      { doc: null, revision: await kv.revision() },
    ]);
    watch.cancel();
    await states.put('h1', draftRunning('3.0.0'));
    await settle();
    expect(seen).toHaveLength(2);
  });

  it('reports a document in the store that is not valid as FERRY_E_STORE, on get and on watch', async () => {
    const kv = await openSqliteKvStore(':memory:');
    const states = new KvDesiredStates(kv);
    const errors: Error[] = [];
    states.watch(
      'h1',
      0,
      () => undefined,
      (error) => errors.push(error),
    );
    await kv.put(desiredStateKey('h1'), '{"apps": "none"}');
    await settle();
    expect(errors.map((e) => isFerryError(e, 'FERRY_E_STORE'))).toEqual([true]);
    await expect(states.get('h1')).rejects.toMatchObject({ code: 'FERRY_E_STORE' });
  });
});
