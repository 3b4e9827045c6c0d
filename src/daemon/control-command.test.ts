import { describe, expect, it } from 'vitest';
import { parseConfig } from '../config/load.js';
import type { Fleet } from '../server/fleet/fleet.js';
import { controlWith } from './test-support/control.js';

const config = parseConfig(
  `environments: { production: {}, fleet: { hosts: { role: web } } }
apps:
  hello:
    artifact: { url: "file:///releases/hello-{version}.tar.gz" }
    run: { command: node, args: [server.mjs] }
    listen: "127.0.0.1:18080"
    environments: { fleet: { listen: "0.0.0.0:18081" } }
`,
  { configPath: null },
);

describe('ferry pause|resume|promote|abort --host', () => {
  it('on this host: refused, naming the command that steers its deployment', async () => {
    const control = controlWith('command routes', {
      config: { current: config },
      fleet: { has: (env: string) => env === 'fleet' } as unknown as Fleet,
    });
    await expect(
      control.command('hello', 'production', 'promote', 'api', { host: 'web-1' }),
    ).rejects.toMatchObject({
      code: 'FERRY_E_USAGE',
      message:
        '--host: production runs on this host, not on enrolled hosts: ferry promote hello --env production steers its deployment',
    });
  });

  it('on enrolled hosts: handed to the fleet with the host', async () => {
    const asked: unknown[] = [];
    const fleet = {
      has: (env: string) => env === 'fleet',
      command: (...args: unknown[]) => {
        asked.push(args);
        return Promise.resolve({});
      },
      rollout: () => Promise.resolve({ app: 'hello', env: 'fleet' }),
    } as unknown as Fleet;
    const control = controlWith('command routes', { config: { current: config }, fleet });
    await control.command('hello', 'fleet', 'pause', 'api', { host: 'web-1' });
    expect(asked).toEqual([['hello', 'fleet', 'pause', 'api', 'web-1']]);
  });
});
