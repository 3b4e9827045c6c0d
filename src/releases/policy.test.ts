import { describe, expect, it } from 'vitest';
import { useConfigDir } from '../config/test-support/config-dir.js';
import { DEFAULT_AUTO_DEPLOY, type AutoDeployPolicy } from '../config/auto-deploy.js';
import {
  compareReleases,
  decide,
  policyOf,
  targetEnvironments,
  windowState,
  type PolicyInput,
} from './policy.js';

const { parse, problems } = useConfigDir('policy');

const HOUR = 3_600_000;
/** Monday 2026-11-30 12:00 UTC. */
const MONDAY_NOON = Date.UTC(2026, 10, 30, 12);

const app = (extra: string, envs = '') => `
environments: { staging: {}, production: {} }
apps:
  web:
    artifact: { url: "dist/web-{version}.tar.gz" }
    run: { command: node, args: [server.mjs] }
    listen: 8080
${extra}    environments:
      production: { listen: 8081${envs} }
`;

const policy = (over: Partial<AutoDeployPolicy> = {}): AutoDeployPolicy => ({
  ...DEFAULT_AUTO_DEPLOY,
  ...over,
});

function input(over: Partial<PolicyInput> = {}): PolicyInput {
  return {
    policy: policy(),
    candidate: { version: '1.2.0', publishedAt: null },
    ledger: null,
    current: { version: '1.1.0', publishedAt: null },
    now: MONDAY_NOON,
    lastOfferAt: MONDAY_NOON,
    ...over,
  };
}

describe('auto_deploy in ferry.yaml', () => {
  it('compiles true, false and a policy', () => {
    const config = parse(
      app(
        '',
        ', auto_deploy: { versions: "^1.2.0", windows: [{ cron: "0 9 * * 1-5", duration: 8h }], timezone: Europe/Paris, debounce: 30s }',
      ),
    );
    expect(config.apps.web?.environments.production?.autoDeploy).toEqual({
      enabled: true,
      versions: '^1.2.0',
      windows: [{ cron: '0 9 * * 1-5', durationMs: 8 * HOUR }],
      timezone: 'Europe/Paris',
      debounceMs: 30_000,
    });
    expect(config.apps.web?.environments.staging?.autoDeploy).toBeNull();
    expect(
      parse(app('', ', auto_deploy: false')).apps.web?.environments.production?.autoDeploy?.enabled,
    ).toBe(false);
  });

  it.each([
    ['versions: "not a range!"', 'auto_deploy.versions: expected a semver range'],
    [
      'windows: [{ cron: "61 * * * *", duration: 1h }]',
      'auto_deploy.windows.0.cron: expected a cron expression',
    ],
    [
      'windows: [{ cron: "0 0 9 * * 1", duration: 1h }]',
      'auto_deploy.windows.0.cron: expected a 5-field cron expression',
    ],
    ['timezone: Mars/Olympus', 'auto_deploy.timezone: expected UTC or an IANA time zone'],
    ['debounce: soon', 'auto_deploy.debounce: expected a duration'],
  ])('refuses %s naming its path', (field, message) => {
    const found = problems(app('', `, auto_deploy: { ${field} }`));
    expect(found.join('\n')).toContain(`apps.web.environments.production.${message}`);
  });
});

describe('which environments and policies apply', () => {
  it.each([
    ['no triggers, nothing configured', '', '', null, [], false],
    [
      'a trigger, no env named: the first environment',
      '    triggers: { generic: { secret: "0123456789abcdef0" } }\n',
      '',
      null,
      ['staging'],
      true,
    ],
    [
      'a trigger, an env named: that one',
      '    triggers: { generic: { secret: "0123456789abcdef0" } }\n',
      '',
      'production',
      ['production'],
      true,
    ],
    ['configured on: that environment', '', ', auto_deploy: true', null, ['production'], false],
    ['configured off: none', '', ', auto_deploy: false', null, [], false],
  ])('%s', (_name, extra, envs, named, targets, stagingOn) => {
    const web = parse(app(extra, envs)).apps.web!;
    const expected = targets.length === 0 && named === null ? [] : targets;
    const got = targetEnvironments(web, named);
    // With nothing configured the first environment is considered, and its policy (off) skips it.
    expect(got.filter((env) => policyOf(web, env).enabled)).toEqual(expected);
    expect(policyOf(web, 'staging').enabled).toBe(stagingOn);
  });
});

describe('the policy decides', () => {
  it.each<[string, Partial<PolicyInput>, string, RegExp | null]>([
    ['a newer release deploys', {}, 'deploy', null],
    ['nothing serves yet: it deploys', { current: null }, 'deploy', null],
    ['off: skipped', { policy: policy({ enabled: false }) }, 'skip', /auto_deploy is off/],
    ['inside the range', { policy: policy({ versions: '^1.2.0' }) }, 'deploy', null],
    ['outside the range', { policy: policy({ versions: '>=2' }) }, 'skip', /outside the range ">=2"/],
    [
      'not semver: outside any range',
      { policy: policy({ versions: '*' }), candidate: { version: 'build-77', publishedAt: null } },
      'skip',
      /outside the range/,
    ],
    ['marked bad', { ledger: 'bad' }, 'skip', /marked bad/],
    ['rolled back: not redeployed', { ledger: 'rolled-back' }, 'skip', /marked rolled-back/],
    ['marked good: deploys', { ledger: 'good' }, 'deploy', null],
    [
      'older than what serves',
      { current: { version: '1.10.0', publishedAt: null } },
      'skip',
      /not newer than 1\.10\.0/,
    ],
    ['serving already', { current: { version: '1.2.0', publishedAt: null } }, 'skip', /serving already/],
    [
      'not semver: published later deploys',
      { candidate: { version: 'abc', publishedAt: 2 }, current: { version: 'def', publishedAt: 1 } },
      'deploy',
      null,
    ],
    [
      'not semver: published earlier is older',
      { candidate: { version: 'abc', publishedAt: 1 }, current: { version: 'def', publishedAt: 2 } },
      'skip',
      /not newer/,
    ],
    ['debounce: waits for quiet', { policy: policy({ debounceMs: 30_000 }) }, 'wait', /debounce/],
    [
      'debounce: quiet long enough',
      { policy: policy({ debounceMs: 30_000 }), lastOfferAt: MONDAY_NOON - 30_000 },
      'deploy',
      null,
    ],
    [
      'inside a window (09:00 UTC for 8h)',
      { policy: policy({ windows: [{ cron: '0 9 * * 1-5', durationMs: 8 * HOUR }] }) },
      'deploy',
      null,
    ],
    [
      'outside every window: waits',
      { policy: policy({ windows: [{ cron: '0 9 * * 1-5', durationMs: 2 * HOUR }] }) },
      'wait',
      /next opens at 2026-12-01T09:00:00.000Z/,
    ],
    [
      'a window in a time zone (09:00 in Tokyo is 00:00 UTC)',
      { policy: policy({ windows: [{ cron: '0 9 * * *', durationMs: 2 * HOUR }], timezone: 'Asia/Tokyo' }) },
      'wait',
      /next opens at 2026-12-01T00:00:00.000Z/,
    ],
  ])('%s', (_name, over, action, reason) => {
    const decision = decide(input(over));
    expect(decision.action).toBe(action);
    if (reason !== null) expect('reason' in decision ? decision.reason : '').toMatch(reason);
  });

  it('a window waits until it opens, then deploys', () => {
    const windows = [{ cron: '0 18 * * *', durationMs: HOUR }];
    const first = decide(input({ policy: policy({ windows }) }));
    expect(first).toMatchObject({ action: 'wait', until: Date.UTC(2026, 10, 30, 18) });
    const until = first.action === 'wait' ? first.until : 0;
    expect(decide(input({ policy: policy({ windows }), now: until })).action).toBe('deploy');
    expect(decide(input({ policy: policy({ windows }), now: until + HOUR })).action).toBe('wait');
    expect(windowState(windows, 'UTC', until + 30 * 60_000)).toEqual({ open: true, closesAt: until + HOUR });
  });

  it('orders releases by semver, else by publication', () => {
    expect(compareReleases({ version: '1.10.0', publishedAt: 1 }, { version: '1.9.0', publishedAt: 2 })).toBe(
      1,
    );
    expect(compareReleases({ version: 'a', publishedAt: null }, { version: 'b', publishedAt: 1 })).toBeNull();
  });
});
