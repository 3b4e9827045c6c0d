import { describe, expect, it } from 'vitest';
import { renderWaiting } from './render-waiting.js';

describe('renderWaiting', () => {
  it('says what waits where, who brought it, when it is decided again and why', () => {
    const now = Date.UTC(2026, 10, 28, 12);
    const lines = renderWaiting(
      [
        {
          app: 'web',
          env: 'production',
          version: '2.3.0',
          trigger: { kind: 'watcher', actor: 'watcher:github:acme/web' },
          since: now - 1_000,
          reason: 'outside the deployment windows',
          until: now + 5 * 60_000,
        },
        {
          app: 'web',
          env: 'staging',
          version: '2.3.0',
          trigger: { kind: 'webhook', actor: 'webhook:generic:ci-1234567890' },
          since: now,
          reason: null,
          until: null,
        },
      ],
      now,
    );
    expect(lines[0]).toMatch(
      /^waiting: web 2\.3\.0 \(production\), by watcher github acme\/web, decided again .* \(in 5m.*\): outside the deployment windows$/,
    );
    expect(lines[1]).toBe('waiting: web 2.3.0 (staging), by webhook generic ci-12345…');
  });
});
