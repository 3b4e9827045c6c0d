import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { controlWith } from './test-support/control.js';
import { createApiServer } from '../api/server.js';
import type {
  ErrorResponse,
  HostRevokeResponse,
  HostsResponse,
  JoinTokenCreateResponse,
} from '../api/types.js';
import { silentLogger } from '../lib/logger.js';
import { hostReport } from '../protocol/test-support/messages.js';
import { HostExchange } from '../server/agent-api/host-exchange.js';
import { KvDesiredStates } from '../server/agent-api/kv-desired-states.js';
import { openSqliteKvStore } from '../store/kv/sqlite-kv.js';
import { openSqliteStore } from '../store/sqlite/sqlite-store.js';
import { hostsView } from './hosts-view.js';
import { createTrustPart } from './trust-part.js';

const TOKEN = 'api-token-for-the-test';
const auth = { authorization: `Bearer ${TOKEN}` };

/** A dependency these routes must not touch: any use of it fails the test. */
const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/**
 * The daemon's API as `ferry up` wires its trust part: the operator routes over a real key-value
 * store and audit trail, and hosts enrolled by calling Trust directly on the same store (the agent
 * side of enrollment is not an operator's route).
 */
async function setup() {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'ferry-trust-part-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  const kv = await openSqliteKvStore(path.join(dir, 'kv.db'));
  const store = openSqliteStore(path.join(dir, 'ferry.db'));
  const part = createTrustPart({ kv, store, logger: silentLogger() });
  const exchange = new HostExchange({ desired: new KvDesiredStates(kv) });
  cleanups.push(
    () => kv.close(),
    () => store.close(),
    () => exchange.close(),
  );
  const control = controlWith('trust routes', {
    hostsView: () => hostsView(exchange, () => part.trust.listHosts()),
    trust: part.operator,
  });
  const api = createApiServer({ control, token: TOKEN, logger: silentLogger() });
  cleanups.push(() => api.close());
  const call = async <T>(method: 'GET' | 'POST', url: string, payload?: unknown) => {
    const response = await api.inject({ method, url, headers: auth, ...(payload ? { payload } : {}) });
    return { status: response.statusCode, body: response.json<T>(), text: response.body };
  };
  return { kv, store, part, exchange, call };
}

describe("ferry up's operator routes of enrollment", () => {
  it('create a join token shown once, list it without its secret, and refuse bad fields changing nothing', async () => {
    const { call, store } = await setup();
    const created = await call<JoinTokenCreateResponse>('POST', '/v1/join-tokens', {
      ttl: '2h',
      uses: 2,
      labels: { role: 'web' },
    });
    expect(created.status).toBe(201);
    expect(created.body.agents).toBeNull();
    expect(created.body.joinToken).toMatchObject({ uses: 2, usesLeft: 2, state: 'active' });
    expect(created.body.joinToken.expiresAt - created.body.joinToken.createdAt).toBe(2 * 3600_000);
    const secret = created.body.token.split('.')[2]!;

    for (const [body, problem] of [
      [{ ttl: '400d' }, /body\.ttl: expected a duration from 1s to 365d like "1h", got "400d"/],
      [{ ttl: 'soon' }, /body\.ttl: expected a duration .*, got "soon"/],
      [{}, /body\.ttl: expected a duration .*, got nothing/],
      [{ ttl: '1h', uses: 0 }, /body\.uses: expected a whole number from 1 to 10000, got 0/],
      [{ ttl: '1h', labels: { Role: 'web' } }, /labels: expected label keys .*, got "Role"/],
      [{ ttl: '1h', label: {} }, /Unrecognized key: "label"/],
    ] as const) {
      const refused = await call<ErrorResponse>('POST', '/v1/join-tokens', body);
      expect(refused.status, JSON.stringify(body)).toBe(400);
      expect(refused.body.error.code).toBe('FERRY_E_USAGE');
      expect(refused.body.error.message).toMatch(problem);
    }

    const listed = await call<{ joinTokens: unknown[] }>('GET', '/v1/join-tokens');
    expect(listed.body.joinTokens).toEqual([created.body.joinToken]);
    expect(listed.text).not.toContain(secret);
    const audit = await store.listAudit(10);
    expect(audit.map((entry) => entry.action)).toEqual(['create-join-token']);
    expect(JSON.stringify(audit)).not.toContain(secret);
  });

  it('list a host enrolled but never seen, one that reports, and the embedded one; revoke by name and by id', async () => {
    const { call, part, exchange, store } = await setup();
    const { token } = await part.trust.createJoinToken({ ttlMs: 3600_000, uses: 2, labels: { role: 'web' } });
    const web1 = await part.trust.enroll(token, { name: 'web-1', labels: { zone: 'a' } });
    const web2 = await part.trust.enroll(token, { name: 'web-2' });
    const report = hostReport(web2.host.id, 0, '0.9.0');
    exchange.receiveReport(web2.host.id, report, { address: '10.0.0.7', bytes: 100 });
    exchange.receiveReport('local', hostReport('local', 0), { address: 'in-process', bytes: 100 });

    let hosts = (await call<HostsResponse>('GET', '/v1/hosts')).body.hosts;
    expect(hosts.map((h) => h.name)).toEqual(['local', 'web-1', 'web-2']);
    expect(hosts[0]).toMatchObject({ id: 'local', enrolledAt: null, revokedAt: null, address: 'in-process' });
    expect(hosts[1]).toMatchObject({
      id: web1.host.id,
      lastSeenAt: null,
      lastSeen: null,
      address: null,
      agentVersion: null,
      labels: [
        { key: 'role', value: 'web' },
        { key: 'zone', value: 'a' },
      ],
      enrolledAt: web1.host.enrolledAt,
      revokedAt: null,
      apps: [],
    });
    expect(hosts[2]).toMatchObject({
      id: web2.host.id,
      address: '10.0.0.7',
      agentVersion: '0.9.0',
      labels: [{ key: 'role', value: 'web' }],
      apps: [expect.objectContaining({ app: 'web', current: '1.0.0' })],
    });

    const byName = await call<HostRevokeResponse>('POST', '/v1/hosts/web-1/revoke');
    expect(byName.status).toBe(200);
    expect(byName.body).toMatchObject({ alreadyRevoked: false, host: { id: web1.host.id, name: 'web-1' } });
    const byId = await call<HostRevokeResponse>('POST', `/v1/hosts/${web2.host.id}/revoke`);
    expect(byId.body.host.name).toBe('web-2');
    const unknown = await call<ErrorResponse>('POST', '/v1/hosts/local/revoke');
    expect(unknown.status).toBe(404);
    expect(unknown.body.error).toMatchObject({
      code: 'FERRY_E_HOST_UNKNOWN',
      message: 'no enrolled host has the id or name "local" (no host is enrolled)',
    });

    hosts = (await call<HostsResponse>('GET', '/v1/hosts')).body.hosts;
    expect(hosts.map((h) => [h.name, h.revokedAt !== null])).toEqual([
      ['local', false],
      ['web-1', true],
      ['web-2', true],
    ]);
    await expect(part.trust.authenticateAgent(web2.credential)).rejects.toMatchObject({
      code: 'FERRY_E_AGENT_CREDENTIAL_REFUSED',
    });
    const audit = await store.listAudit(10);
    expect(
      audit
        .filter((e) => e.action === 'revoke-host')
        .map((e) => e.target)
        .sort(),
    ).toEqual([`host/${web1.host.id}`, `host/${web2.host.id}`].sort());
  });

  it('revoke a join token by id; an unknown id is a 404 naming it', async () => {
    const { call } = await setup();
    const created = await call<JoinTokenCreateResponse>('POST', '/v1/join-tokens', { ttl: '10m' });
    const { id } = created.body.joinToken;
    const revoked = await call<{ joinToken: { id: string } }>('POST', `/v1/join-tokens/${id}/revoke`);
    expect(revoked.status).toBe(200);
    expect(revoked.body.joinToken.id).toBe(id);
    expect((await call<{ joinTokens: unknown[] }>('GET', '/v1/join-tokens')).body.joinTokens).toEqual([]);
    const again = await call<ErrorResponse>('POST', `/v1/join-tokens/${id}/revoke`);
    expect(again.status).toBe(404);
    expect(again.body.error).toMatchObject({ code: 'FERRY_E_JOIN_TOKEN_UNKNOWN' });
    expect(again.body.error.message).toContain(id);
  });
});
