import { describe, expect, it } from 'vitest';
import type { HostView } from '../api/types.js';
import { renderHostRevoked, renderHosts } from './render-hosts.js';

const NOW = Date.UTC(2026, 0, 1, 12, 0, 0);

const local: HostView = {
  id: 'local',
  name: 'local',
  lastSeenAt: NOW - 2000,
  lastSeen: new Date(NOW - 2000).toISOString(),
  address: 'in-process',
  agentVersion: '0.1.0',
  labels: [],
  desiredRevision: 12,
  reportedRevision: 12,
  enrolledAt: null,
  joinTokenId: null,
  revokedAt: null,
  router: { state: 'running', pid: 4242, restarts: 0, error: null },
  apps: [
    { app: 'hello', env: 'production', current: '1.1.0', versions: ['1.1.0'], instances: 2, healthy: 2 },
  ],
};

const enrolled: HostView = {
  ...local,
  id: '3f9a1c02bb4e5d6f',
  name: 'web-1',
  address: '10.0.0.7',
  labels: [{ key: 'role', value: 'web' }],
  desiredRevision: 14,
  reportedRevision: 13,
  enrolledAt: Date.UTC(2026, 0, 1, 9, 0, 0),
  joinTokenId: '0123456789abcdef',
  apps: [],
};

describe('ferry hosts', () => {
  it('shows the embedded host as before, and an enrolled one by name and id', () => {
    const text = renderHosts({ hosts: [local, enrolled] }, NOW);
    expect(text.split('\n')).toEqual([
      'local  agent 0.1.0  last seen 2s ago from in-process  labels -  in sync (revision 12)',
      '  hello (production)  current 1.1.0  running 1.1.0  2/2 healthy',
      '',
      'web-1 (3f9a1c02bb4e5d6f)  agent 0.1.0  last seen 2s ago from 10.0.0.7  labels role=web  applying revision 14 (reported 13)',
    ]);
  });

  it('says so when a host reports its router down or being replaced', () => {
    const down = {
      ...enrolled,
      reportedRevision: 14,
      router: { state: 'down' as const, pid: null, restarts: 3, error: 'the keeper does not answer' },
    };
    expect(renderHosts({ hosts: [down] }, NOW)).toBe(
      'web-1 (3f9a1c02bb4e5d6f)  agent 0.1.0  last seen 2s ago from 10.0.0.7  labels role=web  in sync (revision 14)  ROUTER DOWN: the keeper does not answer',
    );
    const older = { ...enrolled, router: null };
    expect(renderHosts({ hosts: [older] }, NOW)).not.toContain('ROUTER');
  });

  it('shows "never" for a host enrolled but not seen, and when a host was revoked', () => {
    const never = { ...enrolled, lastSeenAt: null, lastSeen: null, address: null, agentVersion: null };
    expect(renderHosts({ hosts: [never] }, NOW)).toBe(
      'web-1 (3f9a1c02bb4e5d6f)  last seen never (enrolled 2026-01-01 09:00:00)  labels role=web',
    );
    const revoked = { ...enrolled, revokedAt: Date.UTC(2026, 0, 1, 11, 30, 0) };
    expect(renderHosts({ hosts: [revoked] }, NOW)).toBe(
      'web-1 (3f9a1c02bb4e5d6f)  revoked 2026-01-01 11:30:00  agent 0.1.0  last seen 2s ago from 10.0.0.7  labels role=web',
    );
    expect(renderHosts({ hosts: [] }, NOW)).toBe('no host is enrolled or has reported yet');
  });

  it('says what revoking changed, or that it changed nothing', () => {
    const host = {
      id: '3f9a1c02bb4e5d6f',
      name: 'web-1',
      labels: [],
      enrolledAt: 0,
      joinTokenId: '0123456789abcdef',
      revokedAt: Date.UTC(2026, 0, 1, 11, 30, 0),
    };
    expect(renderHostRevoked({ host, alreadyRevoked: false })).toMatch(
      /^host web-1 \(3f9a1c02bb4e5d6f\) revoked at 2026-01-01 11:30:00: its agent is refused/,
    );
    expect(renderHostRevoked({ host, alreadyRevoked: true })).toBe(
      'host web-1 (3f9a1c02bb4e5d6f) was already revoked at 2026-01-01 11:30:00; nothing changed',
    );
  });
});
