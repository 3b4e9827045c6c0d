import { describe, expect, it } from 'vitest';
import { FakeClock } from '../../lib/clock.js';
import { silentLogger } from '../../lib/logger.js';
import { openSqliteKvStore } from '../../store/kv/sqlite-kv.js';
import type { AuditEntry } from '../../store/store.js';
import type { HostSummary } from './hosts.js';
import { findHost, TrustOperator } from './trust-operator.js';
import { Trust } from './trust.js';

const HOUR = 60 * 60 * 1000;

async function setup() {
  const kv = await openSqliteKvStore(':memory:');
  const clock = new FakeClock(Date.UTC(2026, 0, 1));
  const trust = new Trust(kv, clock);
  const audit: AuditEntry[] = [];
  const operator = new TrustOperator({
    trust,
    audit: (entry) => Promise.resolve(void audit.push(entry)),
    logger: silentLogger(),
    clock,
    agents: () => null,
  });
  return { kv, clock, trust, operator, audit };
}

async function refusal(promise: Promise<unknown>): Promise<{ code: string; message: string }> {
  try {
    await promise;
  } catch (error) {
    return error as { code: string; message: string };
  }
  throw new Error('expected a refusal');
}

function host(id: string, name: string, enrolledAt: number, revokedAt: number | null = null): HostSummary {
  return {
    id,
    name,
    labels: {},
    enrolledAt,
    joinTokenId: '0000000000000000',
    revoked: revokedAt !== null,
    revokedAt,
  };
}

describe('the operator side of join tokens', () => {
  it('creates a token shown once, audits it without its secret, and lists it without the secret', async () => {
    const { operator, audit } = await setup();
    const created = await operator.createJoinToken({ ttl: HOUR, uses: 3, labels: { role: 'web' } }, 'api');
    expect(created.agents).toBeNull();
    expect(created.joinToken).toMatchObject({
      uses: 3,
      usesLeft: 3,
      state: 'active',
      labels: [{ key: 'role', value: 'web' }],
      expiresAt: Date.UTC(2026, 0, 1) + HOUR,
    });
    const secret = created.token.split('.')[2]!;
    const listed = await operator.joinTokens();
    expect(listed.joinTokens).toEqual([created.joinToken]);
    expect(audit).toEqual([
      expect.objectContaining({
        actor: 'api',
        action: 'create-join-token',
        target: `join-token/${created.joinToken.id}`,
      }),
    ]);
    expect(JSON.stringify([listed, audit])).not.toContain(secret);
  });

  it('revokes a token by id and audits it; a pasted token is refused naming its id, never quoting it', async () => {
    const { operator, audit } = await setup();
    const { token, joinToken } = await operator.createJoinToken({ ttl: HOUR }, 'api');
    const pasted = await refusal(operator.revokeJoinToken(token, 'api'));
    expect(pasted.code).toBe('FERRY_E_USAGE');
    expect(pasted.message).toContain(`ferry join-token revoke ${joinToken.id}`);
    expect(pasted.message).not.toContain(token.split('.')[2]!);
    expect((await operator.joinTokens()).joinTokens).toHaveLength(1);

    expect((await operator.revokeJoinToken(joinToken.id, 'api')).joinToken.id).toBe(joinToken.id);
    expect((await operator.joinTokens()).joinTokens).toEqual([]);
    expect(audit.map((entry) => entry.action)).toEqual(['create-join-token', 'revoke-join-token']);
    const again = await refusal(operator.revokeJoinToken(joinToken.id, 'api'));
    expect(again.code).toBe('FERRY_E_JOIN_TOKEN_UNKNOWN');
  });
});

describe('revoking a host', () => {
  it('finds it by id or by name (any case), revokes it once, and says so when it was already', async () => {
    const { operator, trust, audit, clock } = await setup();
    const { token } = await trust.createJoinToken({ ttlMs: HOUR, uses: 2 });
    const web1 = await trust.enroll(token, { name: 'web-1' });
    const web2 = await trust.enroll(token, { name: 'web-2' });
    await clock.advance(5000);

    const byName = await operator.revokeHost('WEB-1', 'api');
    expect(byName).toMatchObject({
      alreadyRevoked: false,
      host: { id: web1.host.id, name: 'web-1', revokedAt: Date.UTC(2026, 0, 1) + 5000 },
    });
    const byId = await operator.revokeHost(web2.host.id, 'api');
    expect(byId.host.name).toBe('web-2');
    const again = await operator.revokeHost('web-1', 'api');
    expect(again.alreadyRevoked).toBe(true);
    expect(audit.filter((e) => e.action === 'revoke-host').map((e) => e.target)).toEqual([
      `host/${web1.host.id}`,
      `host/${web2.host.id}`,
    ]);
    await expect(trust.authenticateAgent(web1.credential)).rejects.toMatchObject({
      details: { reason: 'revoked' },
    });
  });

  it('refuses an unknown host naming it and the enrolled ones, changing nothing', async () => {
    const { operator, trust } = await setup();
    const { token } = await trust.createJoinToken({ ttlMs: HOUR });
    await trust.enroll(token, { name: 'web-1' });
    const unknown = await refusal(operator.revokeHost('local', 'api'));
    expect(unknown).toMatchObject({
      code: 'FERRY_E_HOST_UNKNOWN',
      message: 'no enrolled host has the id or name "local" (enrolled: web-1)',
    });
    expect((await trust.listHosts()).map((h) => h.revoked)).toEqual([false]);
  });

  it('refuses an agent credential given as the host, without quoting it', async () => {
    const { operator, trust } = await setup();
    const { token } = await trust.createJoinToken({ ttlMs: HOUR });
    const { credential, host: enrolled } = await trust.enroll(token, { name: 'web-1' });
    const pasted = await refusal(operator.revokeHost(credential, 'api'));
    expect(pasted.code).toBe('FERRY_E_USAGE');
    expect(pasted.message).toContain(`ferry hosts revoke ${enrolled.id}`);
    expect(pasted.message).not.toContain(credential.split('.')[2]!);
    expect((await trust.listHosts())[0]!.revoked).toBe(false);
  });

  it('takes the name of a reinstalled host to mean the one enrolled now, else the last revoked', () => {
    const old = host('aaaaaaaaaaaaaaaa', 'web-1', 1, 5);
    const older = host('cccccccccccccccc', 'web-1', 0, 3);
    const current = host('bbbbbbbbbbbbbbbb', 'web-1', 10);
    expect(findHost([older, old, current], 'web-1')).toBe(current);
    expect(findHost([older, old], 'web-1')).toBe(old);
    expect(findHost([older, old], 'cccccccccccccccc')).toBe(older);
    expect(findHost([old], 'constructor')).toBeUndefined();
  });
});
