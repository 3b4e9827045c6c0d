import { describe, expect, it } from 'vitest';
import { expectFerryError } from '../../contract/fixtures.js';
import { compareKeys } from '../key-range.js';
import { type KvContractHarness, WatchRecorder, useFreshKvStore } from './fixtures.js';

/** Keys as outside input makes them: names that are also Object.prototype's, unicode, spaces. */
const ODD_KEYS = [
  '__proto__',
  'constructor',
  '/apps/__proto__',
  '/apps/constructor/hasOwnProperty',
  '/apps/toString',
  '/apps/with space/and\ttab',
  '/apps/ключ',
  '/apps/\uFFFD',
  '/apps/😀',
  '/apps/日本',
];

export function describeKeysAndValues(harness: KvContractHarness): void {
  describe('keys and values', () => {
    const store = useFreshKvStore(harness);

    it('keeps keys from outside input as they are, ordered by their UTF-8 bytes', async () => {
      for (const key of ODD_KEYS) await store().put(key, `value of ${key}`);
      for (const key of ODD_KEYS)
        expect(await store().get(key)).toMatchObject({ key, value: `value of ${key}` });
      const apps = ODD_KEYS.filter((key) => key.startsWith('/apps/')).sort(compareKeys);
      expect((await store().range('/apps/')).entries.map((entry) => entry.key)).toEqual(apps);
      // U+FFFD sorts before U+1F600 in UTF-8, after it in JavaScript's UTF-16 order.
      expect(apps.indexOf('/apps/\uFFFD')).toBeLessThan(apps.indexOf('/apps/😀'));
      expect((await store().range('/apps/with space/')).entries).toHaveLength(1);
      expect(await store().get('toString')).toBeUndefined();
    });

    it('stores, ranges and watches values of 1 MiB', async () => {
      const big = 'x'.repeat(1024 * 1024 - 2) + 'é';
      const from = await store().revision();
      const watch = new WatchRecorder(store(), '/big/', from);
      const revision = await store().put('/big/1', big);
      expect((await store().get('/big/1'))?.value).toBe(big);
      await store().put('/big/2', big);
      expect((await store().range('/big/')).entries.map((entry) => entry.value.length)).toEqual([
        big.length,
        big.length,
      ]);
      await watch.reach(revision + 1);
      expect(watch.events.map((event) => event.value === big)).toEqual([true, true]);
      watch.cancel();
    });

    it('refuses an empty key and text with a lone surrogate, changing nothing', async () => {
      const before = await store().revision();
      await expectFerryError(store().put('', 'v'), 'FERRY_E_STORE_REQUEST_INVALID');
      await expectFerryError(store().put('/a\uD800', 'v'), 'FERRY_E_STORE_REQUEST_INVALID');
      await expectFerryError(store().put('/a', 'v\uDC00'), 'FERRY_E_STORE_REQUEST_INVALID');
      await expectFerryError(store().get(''), 'FERRY_E_STORE_REQUEST_INVALID');
      await expectFerryError(
        store().txn({ compare: [{ key: '', modRevision: 0 }], success: [] }),
        'FERRY_E_STORE_REQUEST_INVALID',
      );
      expect(await store().revision()).toBe(before);
    });
  });
}
