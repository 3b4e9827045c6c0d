import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HistoryResponse, StatusResponse } from '../../src/api/types.js';
import { aDeployment } from '../../src/store/contract/fixtures.js';
import { openSqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import { createHarness, type FerryHarness } from '../support/ferry.js';
import { storedAudit, storedValues } from '../support/stored-records.js';

/**
 * A data directory an older Ferry left, its records (ledger, deployments, events, audit) in
 * ferry.db's tables: `ferry up` moves them to the key-value store once, and they read as before.
 */
describe("an older Ferry's records", () => {
  let ferry: FerryHarness;

  beforeAll(async () => {
    ferry = await createHarness({ instances: 1 });
    mkdirSync(ferry.home, { recursive: true, mode: 0o700 });
    writeFileSync(path.join(ferry.home, 'api-token'), 'an-older-token\n', { mode: 0o600 });
    const older = openSqliteStore(path.join(ferry.home, 'ferry.db'));
    await older.audit({ at: 1_000, actor: 'ferry up', action: 'init', target: 'data directory' });
    await older.upsertRelease({
      app: 'hello',
      env: 'production',
      version: '1.0.0',
      artifactUrl: 'dist/hello-1.0.0.tar.gz',
      checksum: null,
      createdAt: 1_000,
    });
    await older.createDeployment(
      aDeployment({
        id: 'd-older',
        app: 'hello',
        from: null,
        to: '1.0.0',
        instances: 1,
        status: 'succeeded',
        phase: 'done',
        updatedAt: 1_500,
      }),
    );
    await older.appendEvent({
      deploymentId: 'd-older',
      at: 1_500,
      type: 'phase',
      message: 'deployment succeeded: 1.0.0 serves hello in production',
    });
    await older.markRelease('hello', 'production', '1.0.0', 'good', 'deployment d-older succeeded', 2_000);
    await older.setCurrent('hello', 'production', '1.0.0');
    await older.close();
    await ferry.start();
  }, 120_000);

  afterAll(async () => {
    await ferry?.cleanup();
  });

  it('moves them on the first start, says so, and reads them as they were', async () => {
    expect(readFileSync(path.join(ferry.home, 'daemon.log'), 'utf8')).toMatch(
      /moved 5 records from ferry\.db to control\.db/,
    );
    const history = await ferry.json<HistoryResponse>('history', 'hello');
    expect(history.deployments.map((d) => d.id)).toContain('d-older');
    expect(history.releases).toMatchObject([{ version: '1.0.0', status: 'good' }]);
    const app = (await ferry.json<StatusResponse>('status', 'hello')).apps[0]!;
    expect(app.current).toBe('1.0.0');
    expect(storedAudit(ferry.home, 'init')).toMatchObject([{ at: 1_000, actor: 'ferry up' }]);
    expect(storedValues(ferry.home, '/records-meta/sqlite-records')).toHaveLength(1);
    const shown = await ferry.cli('show', 'd-older');
    expect(shown.stdout).toContain('deployment succeeded: 1.0.0 serves hello in production');
  });

  it('deploys on them, and a restart moves nothing again', async () => {
    expect((await ferry.cli('deploy', 'hello', '1.1.0', '--wait')).code).toBe(0);
    await ferry.kill9();
    await ferry.start();
    const log = readFileSync(path.join(ferry.home, 'daemon.log'), 'utf8');
    expect(log.match(/moved \d+ records/g)).toHaveLength(1);
    const history = await ferry.json<HistoryResponse>('history', 'hello');
    expect(history.deployments.map((d) => d.id)).toContain('d-older');
    expect(history.releases.map((r) => [r.version, r.status])).toEqual([
      ['1.1.0', 'good'],
      ['1.0.0', 'good'],
    ]);
    expect((await ferry.json<StatusResponse>('status', 'hello')).apps[0]!.current).toBe('1.1.0');
  }, 120_000);
});
