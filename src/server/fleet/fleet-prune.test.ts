import { afterEach, describe, expect, it } from 'vitest';
import { parseConfig } from '../../config/load.js';
import { labelsOf } from '../../lib/labels.js';
import { steadyApp } from '../../runtime/desired/edits.js';
import { fleetOnRealParts } from './test-support/fleet-parts.js';

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

const config = parseConfig(
  [
    'environments: { production: { hosts: { role: web } } }',
    'apps:',
    '  web:',
    '    artifact: { url: "https://releases.example/web-{version}.tar.gz", require_checksum: false }',
    '    run: { command: node, args: [server.mjs] }',
    '    listen: "0.0.0.0:8080"',
  ].join('\n'),
  { configPath: null, env: {} },
);

describe('Fleet: apps that left the file, on the enrolled hosts', () => {
  it('lists what the hosts run, and takes an app off only the hosts that run it', async () => {
    const parts = await fleetOnRealParts({ config });
    cleanups.push(parts.close);
    const { trust, link, exchange, fleet } = parts;
    const { token } = await trust.createJoinToken({ ttlMs: 60_000, uses: 10 });
    const enroll = async (name: string) =>
      (await trust.enroll(token, { name, labels: labelsOf([['role', 'web']]) })).host.id;
    const [a, b] = [await enroll('a'), await enroll('b')];
    const run = (host: string, app: string) =>
      link.edit(host, app, 'production', (doc) => steadyApp(doc, '1.0.0', 1));
    await run(a, 'web');
    await run(a, 'jobs');
    await run(b, 'web');
    expect(await fleet.apps()).toEqual([
      { app: 'jobs', env: 'production' },
      { app: 'web', env: 'production' },
    ]);

    const untouched = (await exchange.desiredState(b))!.revision;
    expect(await fleet.remove('jobs', 'production')).toEqual(['a']);
    expect((await exchange.desiredState(a))!.apps.map((x) => x.app)).toEqual(['web']);
    expect((await exchange.desiredState(b))!.revision).toBe(untouched);
    expect(await fleet.apps()).toEqual([{ app: 'web', env: 'production' }]);
  });
});
