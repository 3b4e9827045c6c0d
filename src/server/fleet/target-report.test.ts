import { describe, expect, it } from 'vitest';
import type { AppReport, HostReport, InstanceReport } from '../../protocol/report.js';
import { selectHosts } from './host-selection.js';
import { targetReportOf } from './target-report.js';
import { labelsOf } from '../../lib/labels.js';
import { runningInstance } from './test-support/fleet-parts.js';

function instance(version: string, over: Partial<InstanceReport> = {}): InstanceReport {
  return runningInstance(`${version}-${Math.random().toString(16).slice(2, 6)}`, version, over);
}

function received(app: Partial<AppReport> | null) {
  const report: HostReport = {
    host: 'h1',
    agentVersion: 'x',
    revision: 3,
    at: 1,
    labels: { role: 'web' },
    apps:
      app === null
        ? []
        : [
            {
              app: 'web',
              env: 'production',
              releases: [],
              instances: [],
              current: null,
              traffic: [],
              route: null,
              tasks: [],
              ...app,
            },
          ],
  };
  return { report, receivedAt: 5_000, remoteAddress: '10.0.0.2' };
}

const desired = (version: string, instances: number) => ({
  app: 'web',
  env: 'production',
  spec: { config: {}, digest: 'd' },
  releases: [{ version, artifact: null, instances, retire: [], weight: 1 }],
  current: version,
  stopNow: [],
  tasks: [],
});

describe('a host report as a rollout target', () => {
  it('serves the release with all the traffic, healthy once every desired instance is, at the server time', () => {
    const one = received({
      traffic: [
        { version: '2.0.0', weight: 1 },
        { version: '1.0.0', weight: 0 },
      ],
      instances: [
        instance('2.0.0'),
        instance('2.0.0', { health: 'starting' }),
        instance('1.0.0', { state: 'retiring' }),
      ],
    });
    expect(targetReportOf(one, 'web', 'production', desired('2.0.0', 2))).toMatchObject({
      name: 'h1',
      at: 5_000,
      version: '2.0.0',
      healthy: false,
      labels: { role: 'web' },
    });
    const two = received({
      traffic: [{ version: '2.0.0', weight: 1 }],
      instances: [instance('2.0.0'), instance('2.0.0')],
    });
    expect(targetReportOf(two, 'web', 'production', desired('2.0.0', 2))).toMatchObject({
      version: '2.0.0',
      healthy: true,
    });
  });

  it('is switching (no version) while traffic is split, and runs nothing when the app is not there', () => {
    const split = received({
      traffic: [
        { version: '2.0.0', weight: 1 },
        { version: '1.0.0', weight: 1 },
      ],
      instances: [instance('2.0.0'), instance('1.0.0')],
    });
    expect(targetReportOf(split, 'web', 'production', undefined)).toMatchObject({
      version: null,
      healthy: false,
    });
    expect(targetReportOf(received(null), 'web', 'production', undefined)).toMatchObject({
      version: null,
      healthy: false,
      message: 'the app does not run here',
    });
  });

  it('fails a release at once when its install failed or its instances crash-loop', () => {
    const install = received({
      releases: [
        {
          version: '2.0.0',
          install: 'failed',
          failure: { code: 'FERRY_E_CHECKSUM_MISMATCH', message: 'bad sum' },
        },
      ],
      traffic: [{ version: '1.0.0', weight: 1 }],
      instances: [instance('1.0.0')],
    });
    expect(targetReportOf(install, 'web', 'production', desired('1.0.0', 1))).toMatchObject({
      version: '1.0.0',
      healthy: true,
      failedVersion: '2.0.0',
      message: 'bad sum',
    });
    const loop = received({
      traffic: [{ version: '1.0.0', weight: 1 }],
      instances: [instance('1.0.0'), instance('2.0.0', { state: 'crash-loop', lastExit: 'exit 1' })],
    });
    expect(targetReportOf(loop, 'web', 'production', desired('1.0.0', 1))).toMatchObject({
      failedVersion: '2.0.0',
    });
  });

  it('is not healthy while its router is down, however healthy its instances', () => {
    const serving = received({ traffic: [{ version: '1.0.0', weight: 1 }], instances: [instance('1.0.0')] });
    const down = {
      ...serving,
      report: {
        ...serving.report,
        router: { state: 'down' as const, pid: null, restarts: 2, error: 'no keeper answers' },
      },
    };
    expect(targetReportOf(down, 'web', 'production', desired('1.0.0', 1))).toMatchObject({
      version: '1.0.0',
      healthy: false,
      message: 'its router is down: no keeper answers',
    });
    // Being replaced, its workers still serve.
    const replacing = {
      ...serving,
      report: {
        ...serving.report,
        router: { state: 'restarting' as const, pid: 7, restarts: 1, error: null },
      },
    };
    expect(targetReportOf(replacing, 'web', 'production', desired('1.0.0', 1))).toMatchObject({
      healthy: true,
    });
  });
});

describe('hosts by labels', () => {
  const host = (id: string, labels: Record<string, string>, revoked = false) => ({
    id,
    name: id,
    labels: labelsOf(Object.entries(labels)),
    enrolledAt: 0,
    joinTokenId: 't',
    revoked,
    revokedAt: revoked ? 1 : null,
  });
  it('selects the hosts with every label of the selector, never a revoked one', () => {
    const hosts = [
      host('a', { role: 'web', zone: 'a' }),
      host('b', { role: 'web', zone: 'b' }),
      host('c', { role: 'db', zone: 'a' }),
      host('d', { role: 'web', zone: 'a' }, true),
    ];
    expect(selectHosts(hosts, labelsOf([['role', 'web']])).map((h) => h.id)).toEqual(['a', 'b']);
    expect(
      selectHosts(
        hosts,
        labelsOf([
          ['role', 'web'],
          ['zone', 'a'],
        ]),
      ).map((h) => h.id),
    ).toEqual(['a']);
    expect(selectHosts(hosts, labelsOf([['constructor', 'x']]))).toEqual([]);
  });
});
