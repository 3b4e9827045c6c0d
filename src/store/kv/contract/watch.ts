import { describe, expect, it } from 'vitest';
import { FerryError } from '../../../errors/ferry-error.js';
import type { KvEvent } from '../kv.js';
import { type KvContractHarness, WatchRecorder, eventually, useFreshKvStore } from './fixtures.js';

export function describeWatches(harness: KvContractHarness): void {
  describe('watches', () => {
    const store = useFreshKvStore(harness);

    it('replays the history after fromRevision, then streams live changes, in revision order', async () => {
      const r1 = await store().put('/w/a', '1');
      const r2 = await store().put('/w/b', '2');
      const r3 = await store().delete('/w/a');
      const watch = new WatchRecorder(store(), '/w/', r1);
      await watch.reach(r3);
      const r4 = await store().put('/w/b', '3');
      await watch.reach(r4);
      expect(watch.batches).toEqual([
        { revision: r2, events: [{ type: 'put', key: '/w/b', value: '2', modRevision: r2 }] },
        { revision: r3, events: [{ type: 'delete', key: '/w/a', modRevision: r3 }] },
        { revision: r4, events: [{ type: 'put', key: '/w/b', value: '3', modRevision: r4 }] },
      ]);
      expect(watch.events.some((event: KvEvent) => event.expired === true)).toBe(false);
      watch.cancel();
    });

    it('sees only the keys under its prefix', async () => {
      const from = await store().revision();
      const watch = new WatchRecorder(store(), '/w/', from);
      await store().put('/wx', 'no');
      await store().put('/other/w/', 'no');
      await store().put('/w', 'no');
      const last = await store().put('/w/yes', 'yes');
      await watch.reach(last);
      expect(watch.events.map((event) => event.key)).toEqual(['/w/yes']);
      watch.cancel();
    });

    it('calls its listener after the write committed, never during it', async () => {
      const from = await store().revision();
      let writing = false;
      const seen: Array<{ writing: boolean; stored: string | undefined }> = [];
      const watch = store().watch('/c/', from, () => {
        const wasWriting = writing;
        void store()
          .get('/c/k')
          .then((entry) => seen.push({ writing: wasWriting, stored: entry?.value }));
      });
      writing = true;
      const put = store().put('/c/k', 'v');
      writing = false;
      await put;
      await eventually('the listener to run', () => seen.length > 0);
      expect(seen).toEqual([{ writing: false, stored: 'v' }]);
      watch.cancel();
    });

    it('calls nothing after cancel()', async () => {
      const from = await store().revision();
      const cancelled = new WatchRecorder(store(), '/x/', from);
      const r1 = await store().put('/x/1', '1');
      await cancelled.reach(r1);
      cancelled.cancel();
      const r2 = await store().put('/x/2', '2');
      // A second watch of the same keys is the barrier: once it has r2, the first would have too.
      const barrier = new WatchRecorder(store(), '/x/', from);
      await barrier.reach(r2);
      expect(cancelled.batches.map((batch) => batch.revision)).toEqual([r1]);
      barrier.cancel();
    });

    it('resumes from the last revision it saw, missing nothing and repeating nothing', async () => {
      const from = await store().revision();
      const first = new WatchRecorder(store(), '/r/', from);
      const written: number[] = [];
      for (let i = 0; i < 5; i++) written.push(await store().put(`/r/${i % 2}`, String(i)));
      await first.reach(written[2] ?? 0);
      first.cancel();
      const seen = first.lastRevision ?? from;
      for (let i = 5; i < 8; i++) written.push(await store().put(`/r/${i % 2}`, String(i)));
      const second = new WatchRecorder(store(), '/r/', seen);
      await second.reach(written.at(-1) ?? 0);
      const revisions = [...first.batches, ...second.batches].map((batch) => batch.revision);
      expect(revisions).toEqual(written);
      second.cancel();
    });

    it('fails a watch from a compacted revision with FERRY_E_STORE_COMPACTED; later ones still work', async () => {
      const revisions: number[] = [];
      for (let i = 0; i < 5; i++) revisions.push(await store().put('/h/k', String(i)));
      const compactAt = revisions[3] ?? 0;
      await store().compact(compactAt);

      const tooOld = new WatchRecorder(store(), '/h/', compactAt - 2);
      const error = await tooOld.failure();
      expect(error).toBeInstanceOf(FerryError);
      expect((error as FerryError).code).toBe('FERRY_E_STORE_COMPACTED');

      const recent = new WatchRecorder(store(), '/h/', compactAt);
      const next = await store().put('/h/k', 'after');
      await recent.reach(next);
      expect(recent.batches.map((batch) => batch.revision)).toEqual([revisions[4], next]);
      recent.cancel();
      expect(await store().get('/h/k')).toMatchObject({ value: 'after', version: 6 });
    });
  });
}
