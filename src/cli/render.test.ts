import { describe, expect, it } from 'vitest';
import type { AppStatus, Deployment, StatusResponse } from '../api/types.js';
import { renderStatus } from './render.js';

const deployment = {
  id: 'd-1',
  app: 'hello',
  env: 'production',
  kind: 'deploy',
  from: '1.0.0',
  to: '1.1.0',
  strategy: {
    kind: 'canary',
    healthDeadlineMs: 15_000,
    steps: [{ weight: 10, pauseMs: 30_000 }],
    analysis: { maxErrorRate: 0.05, minRequests: 20, maxWaitMs: 300_000, inconclusive: 'pause' },
  },
  status: 'running',
  phase: 'shifting',
  step: 0,
  weight: 50,
  createdAt: Date.UTC(2026, 0, 1, 10, 41, 0),
  progress: "canary step 1/1 at 50% (set by api; the step's own weight is 10%)",
} as unknown as Deployment;

function status(app: Partial<AppStatus>): StatusResponse {
  return {
    daemon: { pid: 1, version: '0', uptimeMs: 0, routerPid: 2 },
    router: {
      state: 'running',
      pid: 2,
      version: '0',
      uptimeMs: 1_000,
      restarts: 0,
      workers: [],
      error: null,
    },
    rollouts: [],
    apps: [
      {
        app: 'hello',
        env: 'production',
        current: '1.0.0',
        listen: '127.0.0.1:8080',
        instances: [],
        deployment,
        ...app,
      },
    ],
  };
}

describe('ferry status: a running canary step', () => {
  it('shows its window so far per release: requests (of the minimum), errors (and the limit), healthy instances', () => {
    const text = renderStatus(
      status({
        canary: {
          step: 0,
          weight: 50,
          since: Date.UTC(2026, 0, 1, 10, 41, 7, 112),
          releases: [
            {
              version: '1.1.0',
              role: 'canary',
              weight: 50,
              requests: 1234,
              errors: 3,
              healthy: 2,
              instances: 2,
            },
            {
              version: '1.0.0',
              role: 'stable',
              weight: 50,
              requests: 1200,
              errors: 0,
              healthy: 1,
              instances: 2,
            },
          ],
          error: null,
        },
      }),
    );
    expect(text).toContain("running: canary step 1/1 at 50% (set by api; the step's own weight is 10%)");
    const lines = text.split('\n');
    const at = lines.findIndex((l) => l === '  canary step 1 so far (since 10:41:07.112):');
    expect(at).toBeGreaterThan(0);
    expect(lines[at + 1]).toMatch(
      /^ {4}1\.1\.0 +canary +50% +requests 1234\/20 +errors 3 \(0\.2%, max 5\.0%\) +healthy 2\/2$/,
    );
    expect(lines[at + 2]).toMatch(
      /^ {4}1\.0\.0 +stable +50% +requests 1200 +errors 0 \(0\.0%\) +healthy 1\/2$/,
    );
  });

  it('says why when the counters could not be read, and shows nothing from a daemon without them', () => {
    const text = renderStatus(
      status({
        canary: {
          step: 0,
          weight: 50,
          since: null,
          releases: [
            {
              version: '1.1.0',
              role: 'canary',
              weight: 50,
              requests: null,
              errors: null,
              healthy: 2,
              instances: 2,
            },
          ],
          error: "the router's counters could not be read: connect ECONNREFUSED",
        },
      }),
    );
    expect(text).toMatch(
      /canary step 1 so far:\n {4}1\.1\.0 +canary +50% +requests -\/20 +errors - \(max 5\.0%\) +healthy 2\/2/,
    );
    expect(text).toContain("    the router's counters could not be read: connect ECONNREFUSED");
    expect(renderStatus(status({}))).not.toContain('so far');
  });
});

describe('ferry status: a failure', () => {
  const failure = {
    code: 'FERRY_E_UNHEALTHY',
    message: 'instance hello-1.1.0-a crashed 6 times in 60s',
    evidence: {
      health: 'GET /healthz -> connection refused',
      instanceId: 'hello-1.1.0-a',
      logTail: [
        'TypeError: Cannot read properties of undefined (reading "port")',
        '    at start (/srv/releases/1.1.0/server.mjs:12:20)',
        '    at main (/srv/releases/1.1.0/server.mjs:30:3)',
      ],
    },
  };
  const healthy = [
    {
      id: 'hello-1.0.0-b',
      version: '1.0.0',
      port: 40001,
      pid: 4242,
      state: 'running',
      health: 'healthy',
      lastFailure: null,
    },
  ];

  it('of a past deployment is one line pointing to ferry show, with no stack trace, while all is healthy', () => {
    const text = renderStatus(
      status({
        instances: healthy,
        deployment: { ...deployment, status: 'rolled-back', phase: 'done', failure } as unknown as Deployment,
      }),
    );
    expect(text).not.toMatch(/TypeError|server\.mjs|connection refused/);
    const lines = text.split('\n').filter((l) => l.includes('FERRY_E_UNHEALTHY'));
    expect(lines).toEqual([
      '    last failure: FERRY_E_UNHEALTHY: instance hello-1.1.0-a crashed 6 times in 60s (details: ferry show d-1)',
    ]);
  });

  it('of a past deployment keeps to one line however long its message', () => {
    const long = { ...failure, message: `hook failed:\n${'output line\n'.repeat(40)}` };
    const text = renderStatus(
      status({
        instances: healthy,
        deployment: {
          ...deployment,
          status: 'failed',
          phase: 'done',
          failure: long,
        } as unknown as Deployment,
      }),
    );
    expect(text).not.toContain('output line');
    expect(text).toContain('    last failure: FERRY_E_UNHEALTHY: hook failed:… (details: ferry show d-1)');
  });

  it('of the deployment rolling back now shows its evidence', () => {
    const text = renderStatus(
      status({
        instances: healthy,
        deployment: {
          ...deployment,
          status: 'rolling-back',
          phase: 'reverting',
          failure,
        } as unknown as Deployment,
      }),
    );
    expect(text).toContain('    failure: FERRY_E_UNHEALTHY: instance hello-1.1.0-a crashed 6 times in 60s');
    expect(text).toContain('      | TypeError: Cannot read properties of undefined (reading "port")');
  });
});
