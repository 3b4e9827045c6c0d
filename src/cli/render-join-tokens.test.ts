import { describe, expect, it } from 'vitest';
import type { JoinTokenView } from '../api/types.js';
import { renderJoinTokenCreated, renderJoinTokenRevoked, renderJoinTokens } from './render-join-tokens.js';

const NOW = Date.UTC(2026, 0, 1, 10, 0, 0);
const TOKEN = `ferry-join.3f9a1c02bb4e5d6f.${'s'.repeat(43)}`;

const joinToken: JoinTokenView = {
  id: '3f9a1c02bb4e5d6f',
  createdAt: NOW,
  expiresAt: NOW + 3600_000,
  uses: 2,
  usesLeft: 2,
  labels: [{ key: 'role', value: 'web' }],
  state: 'active',
};

describe('ferry join-token', () => {
  it('create prints the token once and the complete ferry agent line when the daemon knows it', () => {
    const text = renderJoinTokenCreated(
      {
        token: TOKEN,
        joinToken,
        agents: { url: 'https://ferry.example:7443', caFingerprint: 'sha256:ab12' },
      },
      NOW,
    );
    expect(text).toMatch(
      /^join token 3f9a1c02bb4e5d6f: enrolls 2 hosts until 2026-01-01 11:00:00 \(in 1h0m\), labels role=web\n/,
    );
    expect(text.split(TOKEN)).toHaveLength(3);
    expect(text).toContain('shown only this once');
    expect(text).toContain(
      `  ferry agent --server https://ferry.example:7443 --ca-fingerprint sha256:ab12 --token ${TOKEN}`,
    );
  });

  it('create prints a line to complete by hand when the daemon serves no agents', () => {
    const text = renderJoinTokenCreated({ token: TOKEN, joinToken, agents: null }, NOW);
    expect(text).toContain(`  ferry agent --server https://<this server>:7443 --token ${TOKEN}`);
    expect(text).toMatch(/--ca-fingerprint with the fingerprint `ferry server` printed/);
  });

  it('list shows state, uses left, expiry and labels, never a secret', () => {
    const usedUp = {
      ...joinToken,
      id: '00000000000000aa',
      usesLeft: 0,
      state: 'used-up' as const,
      labels: [],
    };
    const expired = {
      ...joinToken,
      id: '00000000000000bb',
      expiresAt: NOW - 1000,
      state: 'expired' as const,
    };
    expect(renderJoinTokens({ joinTokens: [joinToken, usedUp, expired] }, NOW).split('\n')).toEqual([
      '3f9a1c02bb4e5d6f  active   uses left 2/2          expires 2026-01-01 11:00:00 (in 1h0m)  created 2026-01-01 10:00:00  labels role=web',
      '00000000000000aa  used-up  uses left 0/2          expires 2026-01-01 11:00:00 (in 1h0m)  created 2026-01-01 10:00:00  labels -',
      '00000000000000bb  expired  uses left 2/2          expired 2026-01-01 09:59:59  created 2026-01-01 10:00:00  labels role=web',
    ]);
    expect(renderJoinTokens({ joinTokens: [] }, NOW)).toBe(
      'no join token; create one with: ferry join-token create',
    );
    expect(renderJoinTokenRevoked({ joinToken: { ...joinToken, usesLeft: 1 } })).toBe(
      'join token 3f9a1c02bb4e5d6f revoked: it enrolls no one now (it had enrolled 1 of 2; those hosts stay enrolled)',
    );
  });
});
