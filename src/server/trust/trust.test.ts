import { describe, expect, it } from 'vitest';
import { FakeClock } from '../../lib/clock.js';
import type { KvStore } from '../../store/kv/kv.js';
import { openSqliteKvStore } from '../../store/kv/sqlite-kv.js';
import { Trust } from './trust.js';

const HOUR = 60 * 60 * 1000;

async function setup() {
  const kv = await openSqliteKvStore(':memory:');
  const clock = new FakeClock(Date.UTC(2026, 0, 1));
  return { kv, clock, trust: new Trust(kv, clock) };
}

/** What the promise rejected with; fails the test when it resolved. */
async function refusal(
  promise: Promise<unknown>,
): Promise<{ code: string; message: string; details: object }> {
  try {
    await promise;
  } catch (error) {
    return error as { code: string; message: string; details: object };
  }
  throw new Error('expected a refusal');
}

/** Everything the store holds, as one string: secrets must not be in it. */
async function storeText(kv: KvStore): Promise<string> {
  const { entries } = await kv.range('');
  return entries.map((entry) => `${entry.key} ${entry.value}`).join('\n');
}

function secretOf(token: string): string {
  return token.split('.')[2]!;
}

describe('join tokens', () => {
  it('are shown once, stored and listed without their secret', async () => {
    const { kv, trust } = await setup();
    const { token, joinToken } = await trust.createJoinToken({ ttlMs: HOUR, labels: { role: 'web' } });
    expect(token).toMatch(/^ferry-join\.[0-9a-f]{16}\.[A-Za-z0-9_-]{43}$/);
    expect(token.split('.')[1]).toBe(joinToken.id);
    expect(joinToken).toMatchObject({ uses: 1, usesLeft: 1, state: 'active', labels: { role: 'web' } });
    const listed = await trust.listJoinTokens();
    expect(listed).toEqual([joinToken]);
    for (const text of [JSON.stringify(listed), await storeText(kv)]) {
      expect(text).not.toContain(secretOf(token));
    }
  });

  it('enroll once when single-use: a used-up token is refused', async () => {
    const { trust } = await setup();
    const { token } = await trust.createJoinToken({ ttlMs: HOUR });
    await trust.enroll(token, { name: 'web-1' });
    const refused = await refusal(trust.enroll(token, { name: 'web-2' }));
    expect(refused).toMatchObject({ code: 'FERRY_E_JOIN_TOKEN_REFUSED', details: { reason: 'used-up' } });
    expect(refused.message).toMatch(/^the join token [0-9a-f]{16} is used up \(it enrolled 1 host\)$/);
    expect((await trust.listJoinTokens())[0]).toMatchObject({ usesLeft: 0, state: 'used-up' });
    expect((await trust.listHosts()).map((host) => host.name)).toEqual(['web-1']);
  });

  it('enroll as many hosts as their uses, even when agents race for the last ones', async () => {
    const { trust } = await setup();
    const { token } = await trust.createJoinToken({ ttlMs: HOUR, uses: 3 });
    await trust.enroll(token, { name: 'web-0' });
    const results = await Promise.allSettled(
      [1, 2, 3, 4, 5].map((n) => trust.enroll(token, { name: `web-${n}` })),
    );
    expect(results.filter((result) => result.status === 'fulfilled')).toHaveLength(2);
    expect(await trust.listHosts()).toHaveLength(3);
    expect((await trust.listJoinTokens())[0]).toMatchObject({ uses: 3, usesLeft: 0 });
  });

  it('expire: refused from their expiry on, listed as expired', async () => {
    const { clock, trust } = await setup();
    const { token } = await trust.createJoinToken({ ttlMs: HOUR, uses: 5 });
    await clock.advance(HOUR - 1);
    await trust.enroll(token, { name: 'web-1' });
    await clock.advance(1);
    const refused = await refusal(trust.enroll(token, { name: 'web-2' }));
    expect(refused).toMatchObject({
      code: 'FERRY_E_JOIN_TOKEN_REFUSED',
      message: expect.stringContaining('expired at 2026-01-01T01:00:00.000Z'),
      details: { reason: 'expired' },
    });
    expect((await trust.listJoinTokens())[0]).toMatchObject({ state: 'expired', usesLeft: 4 });
  });

  it('are revocable: a revoked token enrolls no one', async () => {
    const { trust } = await setup();
    const { token, joinToken } = await trust.createJoinToken({ ttlMs: HOUR, uses: 5 });
    expect(await trust.revokeJoinToken(joinToken.id)).toMatchObject({ id: joinToken.id });
    expect(await trust.listJoinTokens()).toEqual([]);
    expect(await refusal(trust.enroll(token, { name: 'web-1' }))).toMatchObject({
      code: 'FERRY_E_JOIN_TOKEN_REFUSED',
      details: { reason: 'wrong' },
    });
    for (const id of [joinToken.id, 'constructor', '../../hosts/x']) {
      expect(await refusal(trust.revokeJoinToken(id))).toMatchObject({ code: 'FERRY_E_JOIN_TOKEN_UNKNOWN' });
    }
  });

  it('with a wrong secret or a wrong shape are refused, without saying more, and lose no use', async () => {
    const { trust } = await setup();
    const { token } = await trust.createJoinToken({ ttlMs: HOUR });
    const forged = `${token.slice(0, -43)}${'A'.repeat(43)}`;
    const wrong = await refusal(trust.enroll(forged, { name: 'web-1' }));
    expect(wrong).toMatchObject({
      code: 'FERRY_E_JOIN_TOKEN_REFUSED',
      message: 'the join token is wrong (unknown, revoked, or another secret)',
      details: { reason: 'wrong' },
    });
    for (const bad of [
      `${token}x`,
      token.replace('ferry-join', 'ferry-agent'),
      '',
      42,
      undefined,
      'x'.repeat(10_000),
    ]) {
      const refused = await refusal(trust.enroll(bad, { name: 'web-1' }));
      expect(refused).toMatchObject({ code: 'FERRY_E_JOIN_TOKEN_REFUSED', details: { reason: 'malformed' } });
      expect(refused.message).not.toContain(secretOf(token));
    }
    expect(wrong.message).not.toContain(secretOf(forged));
    await trust.enroll(token, { name: 'web-1' });
  });

  it('take valid options only', async () => {
    const { kv, trust } = await setup();
    for (const options of [
      { ttlMs: 0 },
      { ttlMs: 1.5 * HOUR, uses: 0 },
      { ttlMs: HOUR, uses: 1.5 },
      { ttlMs: Number.NaN },
    ]) {
      expect(await refusal(trust.createJoinToken(options))).toMatchObject({ code: 'FERRY_E_USAGE' });
    }
    expect(await refusal(trust.createJoinToken({ ttlMs: HOUR, labels: { Role: 'web' } }))).toMatchObject({
      code: 'FERRY_E_USAGE',
      message:
        'labels: expected label keys of a lowercase letter then up to 62 of a-z 0-9 . _ / -, got "Role"',
    });
    expect(await kv.revision()).toBe(0);
  });
});

describe('enrollment', () => {
  it('yields a credential, shown once and stored hashed, that authenticates the host', async () => {
    const { kv, trust, clock } = await setup();
    const { token } = await trust.createJoinToken({ ttlMs: HOUR, labels: { role: 'web' } });
    const { host, credential } = await trust.enroll(token, {
      name: 'web-1',
      labels: { zone: 'a', role: 'web' },
    });
    expect(credential).toMatch(new RegExp(`^ferry-agent\\.${host.id}\\.[A-Za-z0-9_-]{43}$`));
    expect(host).toEqual({
      id: host.id,
      name: 'web-1',
      labels: { role: 'web', zone: 'a' },
      enrolledAt: clock.now(),
      joinTokenId: token.split('.')[1],
      revoked: false,
      revokedAt: null,
    });
    expect(await trust.authenticateAgent(credential)).toEqual({
      hostId: host.id,
      name: 'web-1',
      labels: { role: 'web', zone: 'a' },
    });
    const listed = await trust.listHosts();
    expect(listed).toEqual([host]);
    for (const text of [JSON.stringify(listed), await storeText(kv)]) {
      expect(text).not.toContain(secretOf(credential));
      expect(text).not.toContain(secretOf(token));
    }
  });

  it("keeps the join token's labels: an agent adds labels but changes none, else nothing is enrolled", async () => {
    const { trust } = await setup();
    const { token } = await trust.createJoinToken({ ttlMs: HOUR, labels: { role: 'web' } });
    expect(await refusal(trust.enroll(token, { name: 'web-1', labels: { role: 'db' } }))).toMatchObject({
      code: 'FERRY_E_USAGE',
      message: 'labels.role: expected "web" (set by the join token), got "db"',
    });
    expect(await trust.listHosts()).toEqual([]);
    expect((await trust.listJoinTokens())[0]).toMatchObject({ usesLeft: 1 });
  });

  it('checks host names; __proto__ and constructor are names like any other', async () => {
    const { trust } = await setup();
    const { token } = await trust.createJoinToken({ ttlMs: HOUR, uses: 10 });
    for (const name of ['', '-x', '.', '..', '../etc', 'a b', 'web/1', 'x'.repeat(254), 42, undefined]) {
      expect(await refusal(trust.enroll(token, { name }))).toMatchObject({
        code: 'FERRY_E_USAGE',
        details: { where: 'name' },
      });
    }
    expect(await trust.listHosts()).toEqual([]);
    const proto = await trust.enroll(token, { name: '__proto__', labels: { constructor: 'x' } });
    const ctor = await trust.enroll(token, { name: 'constructor' });
    expect(proto.host.labels.constructor).toBe('x');
    expect(ctor.host.labels.constructor).toBeUndefined();
    expect((await trust.listHosts()).map((host) => host.name)).toEqual(['__proto__', 'constructor']);
    expect(await trust.authenticateAgent(proto.credential)).toMatchObject({ name: '__proto__' });
    expect(await refusal(trust.enroll(token, { name: '__PROTO__' }))).toMatchObject({
      code: 'FERRY_E_HOST_NAME_TAKEN',
    });
  });

  it('refuses a name an enrolled host has, until that host is revoked', async () => {
    const { trust, clock } = await setup();
    const { token } = await trust.createJoinToken({ ttlMs: HOUR, uses: 3 });
    const first = await trust.enroll(token, { name: 'web-1' });
    expect(await refusal(trust.enroll(token, { name: 'WEB-1' }))).toMatchObject({
      code: 'FERRY_E_HOST_NAME_TAKEN',
      message: `a host named "web-1" is enrolled already (${first.host.id}); revoke it to enroll another as "WEB-1"`,
    });
    await trust.revokeHost(first.host.id);
    await clock.advance(1000);
    const second = await trust.enroll(token, { name: 'web-1' });
    expect(second.host.id).not.toBe(first.host.id);
    expect((await trust.listHosts()).map((host) => [host.id, host.revoked])).toEqual([
      [first.host.id, true],
      [second.host.id, false],
    ]);
  });
});

describe('agent credentials', () => {
  it('of a revoked host are refused at once; revoking again changes nothing', async () => {
    const { trust, clock } = await setup();
    const { token } = await trust.createJoinToken({ ttlMs: HOUR });
    const { host, credential } = await trust.enroll(token, { name: 'web-1' });
    await clock.advance(5000);
    const revoked = await trust.revokeHost(host.id);
    expect(revoked).toMatchObject({ revoked: true, revokedAt: clock.now() });
    const refused = await refusal(trust.authenticateAgent(credential));
    expect(refused).toMatchObject({
      code: 'FERRY_E_AGENT_CREDENTIAL_REFUSED',
      message: `the host web-1 (${host.id}) was revoked at 2026-01-01T00:00:05.000Z; enroll it again with a new join token`,
      details: { reason: 'revoked', hostId: host.id },
    });
    expect(refused.message).not.toContain(secretOf(credential));
    await clock.advance(5000);
    expect(await trust.revokeHost(host.id)).toEqual(revoked);
    expect(await trust.listHosts()).toEqual([revoked]);
    for (const id of ['0123456789abcdef', '__proto__', '']) {
      expect(await refusal(trust.revokeHost(id))).toMatchObject({ code: 'FERRY_E_HOST_UNKNOWN' });
    }
  });

  it('that are malformed, unknown or wrong are refused, naming no secret', async () => {
    const { trust } = await setup();
    const { token } = await trust.createJoinToken({ ttlMs: HOUR });
    const { credential } = await trust.enroll(token, { name: 'web-1' });
    const wrongSecret = `${credential.slice(0, -43)}${'B'.repeat(43)}`;
    const unknownHost = `ferry-agent.0123456789abcdef.${secretOf(credential)}`;
    for (const bad of [wrongSecret, unknownHost]) {
      const refused = await refusal(trust.authenticateAgent(bad));
      expect(refused).toMatchObject({
        code: 'FERRY_E_AGENT_CREDENTIAL_REFUSED',
        message: 'the agent credential is wrong (unknown host, or another secret)',
        details: { reason: 'wrong' },
      });
    }
    for (const bad of [
      `${credential} `,
      token,
      credential.replace('ferry-agent', 'ferry-join'),
      'Bearer x',
      null,
      {},
    ]) {
      const refused = await refusal(trust.authenticateAgent(bad));
      expect(refused).toMatchObject({
        code: 'FERRY_E_AGENT_CREDENTIAL_REFUSED',
        details: { reason: 'malformed' },
      });
      expect(refused.message).not.toContain(secretOf(credential));
      expect(refused.message).not.toContain(secretOf(token));
    }
  });

  it('let an agent act only for its own host', async () => {
    const { trust } = await setup();
    const { token } = await trust.createJoinToken({ ttlMs: HOUR, uses: 2 });
    const a = await trust.enroll(token, { name: 'web-a' });
    const b = await trust.enroll(token, { name: 'web-b' });
    const agentA = await trust.authenticateAgent(a.credential);
    expect(() => trust.assertSelf(agentA, a.host.id)).not.toThrow();
    let forbidden: unknown;
    try {
      trust.assertSelf(agentA, b.host.id);
    } catch (error) {
      forbidden = error;
    }
    expect(forbidden).toMatchObject({
      code: 'FERRY_E_FORBIDDEN',
      message: `the agent of host ${a.host.id} may read and report only for itself, not for "${b.host.id}"`,
    });
  });
});
