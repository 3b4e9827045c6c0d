import { describe, expect, it } from 'vitest';
import type { NewRelease, Store } from '../store.js';
import { expectFerryError, useFreshStore } from './fixtures.js';

function aRelease(version: string, createdAt: number, overrides: Partial<NewRelease> = {}): NewRelease {
  return {
    app: 'web',
    env: 'production',
    version,
    artifactUrl: `https://artifacts.example/web-${version}.tar.gz`,
    checksum: `sha256:${version.replace(/\D/g, '').padEnd(64, '0')}`,
    createdAt,
    ...overrides,
  };
}

export function describeReleaseLedger(open: () => Promise<Store>): void {
  describe('release ledger', () => {
    const store = useFreshStore(open);

    it('records a new release as status new, never good', async () => {
      const record = await store().upsertRelease(aRelease('1.0.0', 100));
      const expected = {
        ...aRelease('1.0.0', 100),
        status: 'new',
        reason: null,
        goodAt: null,
        updatedAt: 100,
      };
      expect(record).toStrictEqual(expected);
      expect(await store().getRelease('web', 'production', '1.0.0')).toStrictEqual(expected);
    });

    it('updates only the artifact and checksum when a release is seen again', async () => {
      await store().upsertRelease(aRelease('1.0.0', 100));
      await store().markRelease('web', 'production', '1.0.0', 'good', 'deployed', 150);
      const again = aRelease('1.0.0', 200, {
        artifactUrl: 'file:///mirror/web-1.0.0.tar.gz',
        checksum: null,
      });
      const record = await store().upsertRelease(again);
      expect(record).toMatchObject({
        artifactUrl: 'file:///mirror/web-1.0.0.tar.gz',
        checksum: null,
        createdAt: 100,
        status: 'good',
        reason: 'deployed',
        goodAt: 150,
      });
      expect(await store().getRelease('web', 'production', '1.0.0')).toStrictEqual(record);
      expect(await store().listReleases('web', 'production')).toHaveLength(1);
    });

    it('keeps releases apart per app and environment', async () => {
      await store().upsertRelease(aRelease('1.0.0', 100));
      await store().upsertRelease(aRelease('1.0.0', 100, { env: 'staging', artifactUrl: 'file:///staging' }));
      await store().upsertRelease(aRelease('2.0.0', 100, { app: 'api' }));
      expect(await store().getRelease('web', 'staging', '1.0.0')).toMatchObject({
        artifactUrl: 'file:///staging',
      });
      expect(await store().getRelease('web', 'production', '2.0.0')).toBeUndefined();
      expect(await store().getRelease('api', 'production', '2.0.0')).toBeDefined();
      expect((await store().listReleases('web', 'production')).map((r) => r.version)).toEqual(['1.0.0']);
      expect(await store().listReleases('web', 'dev')).toEqual([]);
    });

    it('lists releases newest first, then by insertion order for equal times', async () => {
      await store().upsertRelease(aRelease('1.0.0', 100));
      await store().upsertRelease(aRelease('3.0.0', 300));
      await store().upsertRelease(aRelease('2.0.0', 200));
      await store().upsertRelease(aRelease('2.0.1', 200));
      const versions = (await store().listReleases('web', 'production')).map((r) => r.version);
      expect(versions).toEqual(['3.0.0', '2.0.1', '2.0.0', '1.0.0']);
    });

    it('stamps goodAt when a release becomes good and keeps it when it later turns bad', async () => {
      await store().upsertRelease(aRelease('1.0.0', 100));
      await store().markRelease('web', 'production', '1.0.0', 'good', 'soaked 10m', 500);
      expect(await store().getRelease('web', 'production', '1.0.0')).toMatchObject({
        status: 'good',
        reason: 'soaked 10m',
        goodAt: 500,
        updatedAt: 500,
      });
      await store().markRelease('web', 'production', '1.0.0', 'bad', 'health check failed', 900);
      expect(await store().getRelease('web', 'production', '1.0.0')).toMatchObject({
        status: 'bad',
        reason: 'health check failed',
        goodAt: 500,
        updatedAt: 900,
      });
      await store().markRelease('web', 'production', '1.0.0', 'good', 'redeployed', 1200);
      expect(await store().getRelease('web', 'production', '1.0.0')).toMatchObject({
        status: 'good',
        goodAt: 1200,
      });
    });

    it('marks a release rolled-back, keeping when it was last good, and good again later', async () => {
      await store().upsertRelease(aRelease('1.2.0', 100));
      await store().markRelease('web', 'production', '1.2.0', 'good', 'deployment d-1 succeeded', 200);
      await store().markRelease('web', 'production', '1.2.0', 'rolled-back', 'rolled back to 1.1.0', 300);
      expect(await store().getRelease('web', 'production', '1.2.0')).toMatchObject({
        status: 'rolled-back',
        reason: 'rolled back to 1.1.0',
        goodAt: 200,
        updatedAt: 300,
      });
      expect((await store().listReleases('web', 'production'))[0]?.status).toBe('rolled-back');
      await store().markRelease('web', 'production', '1.2.0', 'good', 'deployment d-3 succeeded', 400);
      expect(await store().getRelease('web', 'production', '1.2.0')).toMatchObject({
        status: 'good',
        goodAt: 400,
      });
    });

    it('refuses to mark a release it does not know', async () => {
      await store().upsertRelease(aRelease('1.0.0', 100));
      const error = await expectFerryError(
        store().markRelease('web', 'staging', '1.0.0', 'good', 'x', 1),
        'FERRY_E_RELEASE_UNKNOWN',
      );
      expect(error.message).toContain('1.0.0');
      expect(await store().getRelease('web', 'production', '1.0.0')).toMatchObject({ status: 'new' });
    });
  });
}
