import { describe, expect, it } from 'vitest';
import type { AppOnHost } from '../../protocol/desired-state.js';
import { emptyApp } from '../../runtime/desired/edits.js';
import { hostDriver } from './host-driver.js';

describe('the fleet host driver', () => {
  it('names a release recorded with its own artifact in the desired state; others use the template', async () => {
    let doc: AppOnHost = emptyApp('web', 'production', { config: {}, digest: 'd' });
    const link = {
      edit: (_target: string, _app: string, _env: string, change: (d: AppOnHost) => AppOnHost) => {
        doc = change(doc);
        return Promise.resolve(1);
      },
      remove: () => Promise.resolve(),
    } as unknown as Parameters<typeof hostDriver>[0];
    const artifact = { url: 'https://cdn.example/web-2.tgz', checksum: `sha256:${'a'.repeat(64)}` };
    const driver = hostDriver(
      link,
      'web',
      'production',
      () => undefined,
      (_app, version) => Promise.resolve(version === '2.0.0' ? artifact : null),
    );
    await driver.assign('h1', '2.0.0');
    expect(doc.releases).toMatchObject([{ version: '2.0.0', artifact, instances: 1, weight: 1 }]);
    expect(doc.current).toBe('2.0.0');
    await driver.assign('h1', '2.0.1');
    expect(doc.releases).toMatchObject([{ version: '2.0.1', artifact: null, instances: 1, weight: 1 }]);
  });
});
