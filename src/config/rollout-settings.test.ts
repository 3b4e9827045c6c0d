import { describe, expect, it } from 'vitest';
import { parseConfig } from './load.js';

const base = (rollout: string, top = '') =>
  [
    top,
    'apps:',
    '  web:',
    '    artifact: { url: "file:///tmp/web-{version}.tar.gz" }',
    '    run: { command: node }',
    '    listen: 127.0.0.1:18080',
    `    rollout: ${rollout}`,
  ].join('\n');

describe('ferry.yaml: an app rollout across hosts and the environments hosts', () => {
  it('compiles batches, budgets, times and controllers with the engine defaults for the rest', () => {
    const config = parseConfig(
      base(
        '{ batch: "25%", max_unavailable: 1, success: 90%, soak: 30s, deadline: 5m, canary: { size: 1, pause: 1m }, controllers: { approval: { url: "https://approve.example/ask", at: after-canary } } }',
        'environments: { production: { hosts: { role: web } } }',
      ),
      { configPath: null, env: {} },
    );
    const { options, endpoints } = config.apps.web!.rollout;
    expect(options).toMatchObject({
      batch: { percent: 25 },
      maxUnavailable: { count: 1 },
      successPercent: 90,
      soakMs: 30_000,
      deadlineMs: 300_000,
      canary: { size: { count: 1 }, pauseMs: 60_000 },
      controllers: { approval: { at: 'after-canary' }, selection: null },
    });
    expect(endpoints).toEqual({ approval: 'https://approve.example/ask' });
    expect([...config.environmentHosts]).toEqual([['production', { role: 'web' }]]);
  });

  it('names every wrong field by its path, and a selector without labels', () => {
    let message = '';
    try {
      parseConfig(
        base(
          '{ batch: "half", success: 101%, controllers: { approval: { url: "ftp://x" } } }',
          'environments: { production: { hosts: {} } }',
        ),
        { configPath: null, env: {} },
      );
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toContain(
      'apps.web.rollout.batch: expected a number of hosts like 2 or a percent like "25%", got "half"',
    );
    expect(message).toContain('apps.web.rollout.controllers.approval.url: expected an http(s):// URL');
    expect(message).toContain('apps.web.rollout.success');
    expect(message).toContain('environments.production.hosts: expected at least one label, like {role: web}');
  });

  it('refuses a rollout deadline that a host canary cannot finish within, on enrolled hosts only', () => {
    const canary = (deadline: string, top: string) =>
      base(`{ deadline: ${deadline} }`, top).replace(
        '    run: { command: node }',
        '    run: { command: node }\n    strategy: { kind: canary, steps: [{ weight: 10%, pause: 30s }, { weight: 50%, pause: 1m }] }',
      );
    const hosts = 'environments: { production: { hosts: { role: web } } }';
    expect(() => parseConfig(canary('90s', hosts), { configPath: null, env: {} })).toThrow(
      "apps.web.rollout.deadline: expected more than the canary's pauses on each host (1m30s in all), got 1m30s",
    );
    expect(
      parseConfig(canary('2m', hosts), { configPath: null, env: {} }).apps.web!.rollout.options.deadlineMs,
    ).toBe(120_000);
    // On the server's own host the deployment's own deadlines apply; there is no rollout deadline.
    expect(() => parseConfig(canary('90s', ''), { configPath: null, env: {} })).not.toThrow();
  });

  it("names a wrong rollout option by its ferry.yaml key, not the engine's", () => {
    expect(() =>
      parseConfig(
        base(
          '{ unseen_after: 10s, success: 101% }',
          'environments: { production: { hosts: { role: web } } }',
        ),
        {
          configPath: null,
          env: {},
        },
      ),
    ).toThrow(
      /apps\.web\.rollout\.silent_after: expected a duration over 0 ms and at most unseen_after \(10000 ms\), got 30000/,
    );
  });
});
