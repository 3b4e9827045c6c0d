import { readFileSync, writeFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type {
  DeploymentDetailResponse,
  LocksResponse,
  LockView,
  StatusResponse,
} from '../../src/api/types.js';
import { createHarness, type FerryHarness } from '../support/ferry.js';
import { waitFor } from '../support/wait.js';

/** ISO 8601 to the second, as Ferry's lock messages write a lock's expiry. */
const isoSecond = (at: number) => new Date(at).toISOString().replace(/\.\d{3}Z$/, 'Z');

/**
 * Locks against a real daemon: a locked environment refuses deployments naming the lock and
 * changes nothing; a deploy queued behind the lock runs once it is released; `ferry apply` does not
 * restart a locked app; status and `ferry locks` show what holds.
 */
describe('ferry lock, unlock and deploy --queue', () => {
  let ferry: FerryHarness;

  beforeAll(async () => {
    ferry = await createHarness({ instances: 1 });
    await ferry.start();
  });

  afterAll(async () => {
    await ferry?.cleanup();
  });

  const status = async () => (await ferry.json<StatusResponse>('status')).apps[0]!;

  it('refuses a deploy while production is locked, queues it with --queue, and runs it once unlocked', async () => {
    const noReason = await ferry.cli('lock', 'production');
    expect(noReason.code).toBe(2);
    expect(noReason.stderr).toMatch(/--reason: a reason is required/);
    const tooLong = await ferry.cli('lock', 'production', '--reason', 'x', '--ttl', '8d');
    expect(tooLong.code).toBe(2);
    expect(tooLong.stderr).toMatch(/ttl: expected a duration from 1s to 7d like "2h" or "3d", got "8d"/);
    const unknownEnv = await ferry.cli('lock', 'prod', '--reason', 'x');
    expect(unknownEnv.code).toBe(2);
    expect(unknownEnv.stderr).toMatch(/no environment named "prod"/);
    expect((await ferry.json<LocksResponse>('locks')).locks).toEqual([]);

    const locked = await ferry.cli('lock', 'production', '--reason', 'release freeze', '--ttl', '2h');
    expect(locked.code, locked.stderr).toBe(0);
    expect(locked.stdout).toMatch(
      /^production locked by api until \S+ \S+ UTC \(in [12]h\d+m\): release freeze/,
    );
    const [lock] = (await ferry.json<LocksResponse>('locks')).locks as [LockView];
    expect(lock).toMatchObject({ env: 'production', app: null, owner: 'api', reason: 'release freeze' });
    expect(lock.expiresAt - lock.createdAt).toBe(2 * 3_600_000);

    // Status shows the lock on the app it holds.
    const before = await status();
    expect(before.locks).toEqual([lock]);
    const text = await ferry.cli('status');
    expect(text.stdout).toMatch(
      /\n {2}LOCKED \(production\) locked by api until .* UTC \(in .*\): release freeze\n/,
    );

    // A deploy is refused, naming the lock's owner, expiry and reason; so is a restart.
    const refused = await ferry.cli('deploy', 'hello', '1.1.0');
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain(
      `ferry: cannot deploy 1.1.0 of hello to production: production is locked by api until ${isoSecond(lock.expiresAt)}: release freeze; `,
    );
    expect(refused.stderr).toMatch(/release it with: ferry unlock production\n {2}\(FERRY_E_LOCKED\)/);
    const restart = await ferry.cli('restart', 'hello');
    expect(restart.code).toBe(1);
    expect(restart.stderr).toMatch(/^ferry: cannot restart hello in production: production is locked by api/);
    // Nothing changed: same release, same last deployment, same instance.
    const after = await status();
    expect(after.current).toBe('1.0.0');
    expect(after.deployment?.id).toBe(before.deployment?.id);
    expect(after.instances.map((i) => i.pid)).toEqual(before.instances.map((i) => i.pid));

    // Queued instead: it waits, shown by status and ferry locks.
    const queued = await ferry.cli('deploy', 'hello', '1.1.0', '--queue');
    expect(queued.code, queued.stderr).toBe(0);
    expect(queued.stdout).toMatch(
      /^queued: hello 1\.1\.0 in production\n {2}production is locked by api until/,
    );
    expect((await status()).queued).toMatchObject({
      version: '1.1.0',
      actor: 'api',
      failure: null,
      heldBy: lock,
    });
    expect((await ferry.json<LocksResponse>('locks')).queued).toHaveLength(1);
    expect((await ferry.cli('status')).stdout).toMatch(
      / {2}queued: deploy of 1\.1\.0 by api, starts once no lock holds it/,
    );

    // Released: the queued deploy starts and succeeds.
    const unlocked = await ferry.cli('unlock', 'production');
    expect(unlocked.code, unlocked.stderr).toBe(0);
    expect(unlocked.stdout).toMatch(/^production unlocked \(it was locked by api since .*: release freeze\)/);
    const done = await waitFor(
      'the queued deploy to succeed',
      async () => {
        const app = await status();
        return app.deployment?.to === '1.1.0' && app.deployment.status === 'succeeded' ? app : null;
      },
      60_000,
      200,
    );
    expect(done).toMatchObject({ current: '1.1.0', locks: [], queued: null });
    const shown = await ferry.json<DeploymentDetailResponse>('show', done.deployment!.id);
    expect(shown.events[0]?.message).toMatch(
      /^queued by api at \S+ while production was locked by api \(release freeze\); started at \S+, once no lock held hello in production$/,
    );

    const again = await ferry.cli('unlock', 'production');
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/ferry: production is not locked\n {2}\(FERRY_E_LOCK_UNKNOWN\)/);
  });

  it('locks one app: ferry apply refuses to restart it, changing nothing, until it is unlocked', async () => {
    const locked = await ferry.cli('lock', 'production', 'hello', '--reason', 'incident 42');
    expect(locked.code, locked.stderr).toBe(0);
    expect((await status()).locks).toMatchObject([
      { env: 'production', app: 'hello', reason: 'incident 42' },
    ]);
    const envUnlock = await ferry.cli('unlock', 'production');
    expect(envUnlock.code).toBe(1);
    expect(envUnlock.stderr).toMatch(/locked there: hello in production \(ferry unlock production hello\)/);

    const original = readFileSync(ferry.configPath, 'utf8');
    writeFileSync(ferry.configPath, original.replace('instances: 1', 'instances: 2'));
    try {
      const before = await status();
      const apply = await ferry.cli('apply', '-c', ferry.configPath);
      expect(apply.code).toBe(1);
      expect(apply.stderr).toMatch(
        /the configuration was not applied \(nothing changed\):\n {2}apps\.hello: hello in production is locked by api until \S+: incident 42; apply again once it is released or expires/,
      );
      expect(apply.stderr).toContain('(FERRY_E_LOCKED)');
      const after = await status();
      expect(after.instances).toHaveLength(1);
      expect(after.deployment?.id).toBe(before.deployment?.id);
    } finally {
      writeFileSync(ferry.configPath, original);
    }
    expect((await ferry.cli('unlock', 'production', 'hello')).code).toBe(0);
    expect((await ferry.json<LocksResponse>('locks')).locks).toEqual([]);
  });

  it('keeps a queued deploy and its lock across a daemon restart (kill -9), and starts it once unlocked', async () => {
    expect((await ferry.cli('lock', 'production', '--reason', 'maintenance')).code).toBe(0);
    const queued = await ferry.cli('deploy', 'hello', '1.0.0', '--queue');
    expect(queued.code, queued.stderr).toBe(0);
    await ferry.kill9();
    await ferry.start();
    const app = await status();
    expect(app.current).toBe('1.1.0');
    expect(app.locks).toMatchObject([{ env: 'production', app: null, reason: 'maintenance' }]);
    expect(app.queued).toMatchObject({ version: '1.0.0', failure: null });
    expect((await ferry.cli('unlock', 'production')).code).toBe(0);
    await waitFor(
      'the queued deploy to succeed after the restart',
      async () => {
        const now = await status();
        return now.current === '1.0.0' && now.deployment?.status === 'succeeded' && now.queued === null;
      },
      60_000,
      200,
    );
  });
});
