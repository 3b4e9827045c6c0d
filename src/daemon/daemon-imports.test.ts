import { describe, expect, it } from 'vitest';
import { staticImports } from '../../test/support/static-imports.js';

describe('ferry up', () => {
  it('loads what only some setups use when they use it: the etcd client, octokit, the cloud SDKs, the certificate factory, undici', async () => {
    const { files, packages } = await staticImports('src/daemon/up.ts');
    expect(files).toContain('src/daemon/daemon.ts');
    // etcd3 (with gRPC) for `server.store: etcd://`, octokit for a GitHub release source,
    // @peculiar/x509 (22 MB) when the server makes its own CA or certificate, undici when a
    // rollout asks an external controller or a webhook is answered by callback, cron-parser (and
    // luxon) when an environment has deploy windows.
    for (const heavy of [
      'etcd3',
      '@octokit',
      '@aws-sdk',
      '@google-cloud',
      '@peculiar',
      'reflect-metadata',
      'undici',
    ])
      expect(packages).not.toContain(heavy);
  });
});
