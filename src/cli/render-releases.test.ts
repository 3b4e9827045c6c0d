import { describe, expect, it } from 'vitest';
import type { CatalogRelease, Deployment, HistoryResponse } from '../api/types.js';
import { renderHistory } from './render.js';
import { renderReleaseAdded, renderReleases } from './render-releases.js';
import { describeTrigger } from './render-trigger.js';

const at = Date.UTC(2026, 10, 28, 13, 0, 0);

function release(version: string, overrides: Partial<CatalogRelease> = {}): CatalogRelease {
  return {
    app: 'hello',
    version,
    artifact: null,
    changelog: null,
    publishedAt: null,
    recordedAt: at,
    trigger: { kind: 'user', actor: 'api' },
    environments: [
      { env: 'production', status: null, current: false },
      { env: 'staging', status: null, current: false },
    ],
    ...overrides,
  };
}

describe('describeTrigger', () => {
  it.each([
    [{ kind: 'user', actor: 'api' }, 'user api'],
    [{ kind: 'user', actor: 'token:ci' }, 'user ci'],
    [{ kind: 'user', actor: 'ferry up' }, 'user ferry up'],
    [{ kind: 'webhook', actor: 'webhook:github:7f3a9c1e-55aa-11ef-8a3b' }, 'webhook github 7f3a9c1e…'],
    [{ kind: 'webhook', actor: 'webhook:generic:d-1' }, 'webhook generic d-1'],
    [{ kind: 'watcher', actor: 'watcher:github:octo/hello' }, 'watcher github octo/hello'],
    [{ kind: 'watcher', actor: 'watcher:http:hello' }, 'watcher http hello'],
    [null, '-'],
  ] as const)('%j reads %s', (trigger, shown) => {
    expect(describeTrigger(trigger)).toBe(shown);
  });
});

describe('ferry releases', () => {
  it('shows one row per release: dates, trigger, redacted artifact, status per environment with the serving one starred', () => {
    const text = renderReleases({
      releases: [
        release('1.2.0', {
          artifact: { url: 'https://example.com/hello-1.2.0.tgz?X-Amz-Signature=***', checksum: null },
          publishedAt: at - 60_000,
          trigger: { kind: 'watcher', actor: 'watcher:github:octo/hello' },
          environments: [
            { env: 'production', status: 'new', current: true },
            { env: 'staging', status: null, current: false },
          ],
        }),
        release('1.1.0', {
          environments: [
            { env: 'production', status: 'rolled-back', current: false },
            { env: 'staging', status: 'good', current: true },
          ],
        }),
      ],
    });
    expect(text.split('\n')).toEqual([
      'VERSION  PUBLISHED            RECORDED             TRIGGER                    ARTIFACT                                                 production   staging',
      '1.2.0    2026-11-28 12:59:00  2026-11-28 13:00:00  watcher github octo/hello  https://example.com/hello-1.2.0.tgz?X-Amz-Signature=***  new*         -',
      '1.1.0    -                    2026-11-28 13:00:00  user api                   (artifact.url)                                           rolled-back  good*',
      '',
      '* serves there now; - never deployed there',
    ]);
  });

  it('says how to record one when there is none', () => {
    expect(renderReleases({ releases: [] })).toContain('ferry release add');
  });

  it('ferry release add: the release and what happened in each environment', () => {
    const { environments: _e, ...entry } = release('1.2.0');
    expect(
      renderReleaseAdded({
        release: entry,
        outcomes: [
          { env: 'production', action: 'deployed', reason: null, deployment: 'd-1' },
          { env: 'staging', action: 'skipped', reason: 'auto_deploy is off', deployment: null },
        ],
      }).split('\n'),
    ).toEqual([
      'recorded hello 1.2.0 (user api)',
      '  production: deployed d-1 (ferry show d-1)',
      '  staging: skipped: auto_deploy is off',
    ]);
  });
});

describe('ferry history', () => {
  it('names what started each deployment, and - for one stored before Ferry kept it', () => {
    const deployment = (id: string, trigger: Deployment['trigger']) =>
      ({
        id,
        kind: 'deploy',
        from: '1.0.0',
        to: '1.1.0',
        strategy: { kind: 'blue-green', healthDeadlineMs: 1 },
        status: 'succeeded',
        phase: 'done',
        replace: null,
        failure: null,
        createdAt: at,
        trigger,
      }) as unknown as Deployment;
    const history: HistoryResponse = {
      deployments: [
        deployment('d-2', { kind: 'webhook', actor: 'webhook:github:7f3a9c1e2b4d' }),
        deployment('d-1', null),
      ],
      releases: [],
    };
    const lines = renderHistory(history).split('\n');
    expect(lines[1]).toMatch(/^ {2}d-2 deploy 1\.0\.0 -> 1\.1\.0 .* by webhook github 7f3a9c1e…$/);
    expect(lines[2]).toMatch(/^ {2}d-1 deploy .* by -$/);
  });
});
