import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { JoinTokenCreateResponse, JoinTokensResponse } from '../../src/api/types.js';
import { openKvStore } from '../../src/store/kv/open.js';
import { startEtcdServer, type EtcdServer } from '../../src/store/kv/test-support/etcd-server.js';
import { createHarness, freePort, type FerryHarness } from '../support/ferry.js';

/**
 * `server.store: etcd://...`: the control plane's key-value store (enrollment, desired states,
 * rollouts, locks) in a real etcd started for the test, shared across server restarts.
 */
describe('a server whose key-value store is etcd', () => {
  let etcd: EtcdServer;
  let ferry: FerryHarness;

  beforeAll(async () => {
    etcd = await startEtcdServer();
    const agentsPort = await freePort();
    ferry = await createHarness({
      top: `server: { listen: "127.0.0.1:${agentsPort}", store: "${etcd.url('/ferry-e2e')}" }`,
    });
    await ferry.start();
  }, 120_000);

  afterAll(async () => {
    await ferry?.cleanup();
    await etcd?.stop();
  }, 60_000);

  it('keeps join tokens in etcd, under the installation prefix, through a restart', async () => {
    const created = await ferry.json<JoinTokenCreateResponse>('join-token', 'create', '--uses', '2');
    const kv = await openKvStore(etcd.url('/ferry-e2e'));
    try {
      const { entries } = await kv.range('/trust/join-tokens/');
      expect(entries.map((e) => e.key)).toEqual([`/trust/join-tokens/${created.joinToken.id}`]);
      // The store keeps the token's hash, never the token.
      expect(entries[0]!.value).not.toContain(created.token.split('.')[2]);
      // The embedded host's desired state is there too.
      expect((await kv.range('/hosts/')).entries.length).toBeGreaterThan(0);
    } finally {
      await kv.close();
    }
    await ferry.kill9();
    await ferry.start();
    const listed = await ferry.json<JoinTokensResponse>('join-token', 'list');
    expect(listed.joinTokens.map((t) => t.id)).toEqual([created.joinToken.id]);
  }, 120_000);

  it('refuses a store URL it cannot use, naming server.store, before anything starts', async () => {
    const other = await createHarness({ top: 'server: { store: "redis://127.0.0.1:6379" }' });
    try {
      const refused = await other.upFails();
      expect(refused.code).toBe(2);
      expect(refused.output).toContain('server.store: unknown store scheme "redis:"');
    } finally {
      await other.cleanup();
    }
  }, 60_000);
});
