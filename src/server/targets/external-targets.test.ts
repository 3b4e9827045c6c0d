import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ControlPlane } from '../../api/control-plane.js';
import { createApiServer } from '../../api/server.js';
import type { TargetsReportResponse, TargetsRolloutResponse } from '../../api/types.js';
import { FakeClock } from '../../lib/clock.js';
import { silentLogger } from '../../lib/logger.js';
import type { KvStore } from '../../store/kv/kv.js';
import { openSqliteKvStore } from '../../store/kv/sqlite-kv.js';
import { ExternalTargets, startExternalTargets } from './external-targets.js';

/**
 * The external targets API end to end over HTTP: the real API server on 127.0.0.1 (port 0), the
 * real runtime on a SQLite key-value store, a fake clock for the rollouts' time.
 */

const TOKEN = 'targets-test-token';

interface Answer<T = unknown> {
  readonly status: number;
  readonly body: T;
}

let clock: FakeClock;
let kv: KvStore;
let targets: ExternalTargets;
let api: FastifyInstance;
let base: string;

beforeEach(async () => {
  clock = new FakeClock(1_700_000_000_000);
  kv = await openSqliteKvStore(':memory:', { clock });
  targets = await startExternalTargets({ kv, logger: silentLogger(), clock });
  api = createApiServer({
    control: { targets } as unknown as ControlPlane,
    token: TOKEN,
    logger: silentLogger(),
  });
  await api.listen({ host: '127.0.0.1', port: 0 });
  base = `http://127.0.0.1:${(api.server.address() as AddressInfo).port}`;
});

afterEach(async () => {
  await api.close();
  await targets.close();
  await kv.close();
});

async function call<T = Record<string, unknown>>(
  method: 'GET' | 'POST',
  path: string,
  body?: unknown,
  token = TOKEN,
): Promise<Answer<T>> {
  const response = await fetch(`${base}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${token}`,
      ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
    },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  return { status: response.status, body: (await response.json()) as T };
}

type ErrorAnswer = { error: { code: string; message: string } };

/** Clients of targets outside Ferry: each runs what the last answer told it. */
class Clients {
  readonly running = new Map<string, string | null>();
  readonly failing = new Set<string>();

  constructor(
    readonly path: string,
    names: readonly string[],
    version: string,
  ) {
    for (const name of names) this.running.set(name, version);
  }

  /** One report call for every target (nixmade's Orchestrate); each then runs its answer. */
  async report(): Promise<TargetsReportResponse> {
    const answer = await call<TargetsReportResponse>('POST', `${this.path}/report`, {
      targets: [...this.running].map(([name, version]) => ({
        name,
        version,
        isError: version !== null && this.failing.has(version),
        message: version !== null && this.failing.has(version) ? 'GET /healthz -> 503' : 'running',
        labels: { zone: name.endsWith('1') ? 'b' : 'a' },
      })),
    });
    expect(answer.status, JSON.stringify(answer.body)).toBe(200);
    for (const { name, version } of answer.body.targets)
      if (version !== null) this.running.set(name, version);
    return answer.body;
  }

  count(version: string): number {
    return [...this.running.values()].filter((v) => v === version).length;
  }
}

const names = (n: number) => Array.from({ length: n }, (_, i) => `host-${String(i).padStart(2, '0')}`);

describe('the external targets API', () => {
  it('10 targets on v1, v2 deployed at 10%: one report call answers 9 v1 and 1 v2, then all move to v2', async () => {
    const clients = new Clients('/v1/targets/prod/web', names(10), 'v1');
    // A new entity: no release is decided yet for its targets (they keep what they run).
    const first = await clients.report();
    expect(first.targets.every((t) => t.version === null && t.status === 'unassigned')).toBe(true);
    // What they run becomes last known good once they prove it: all at once, no soak.
    const adopt = await call('POST', '/v1/targets/prod/web/deploy', {
      version: 'v1',
      options: { batch: '100%', soakMs: 0 },
    });
    expect(adopt.status).toBe(202);
    await clients.report();
    expect((await clients.report()).rollout).toMatchObject({ status: 'succeeded', lkg: 'v1' });

    const deployed = await call<TargetsRolloutResponse>('POST', '/v1/targets/prod/web/deploy', {
      version: 'v2',
      options: { batch: '10%', soakMs: '10s', deadlineMs: '1m' },
    });
    expect(deployed.status).toBe(202);
    expect(deployed.body.rollout).toMatchObject({ status: 'running', rolling: 'v2', lkg: 'v1' });
    const once = await clients.report();
    expect(once.targets.filter((t) => t.version === 'v1')).toHaveLength(9);
    expect(once.targets.filter((t) => t.version === 'v2').map((t) => t.name)).toEqual(['host-00']);
    expect(once.rollout.batch).toMatchObject({ index: 1, of: 10, kind: 'batch' });

    let answer = once;
    for (let second = 0; second < 200 && answer.rollout.status === 'running'; second++) {
      await clock.advance(1_000);
      answer = await clients.report();
    }
    expect(answer.rollout).toMatchObject({ status: 'succeeded', lkg: 'v2', lkb: null });
    expect(clients.count('v2')).toBe(10);

    const { body: view } = await call<TargetsRolloutResponse>('GET', '/v1/targets/prod/web');
    expect(view.rollout.verdicts.map((v) => `${v.version} ${v.verdict}`)).toEqual(['v1 good', 'v2 good']);
    expect(view.rollout.targets.map((t) => [t.name, t.assigned, t.status])).toEqual(
      names(10).map((name) => [name, 'v2', 'settled']),
    );
    expect(view.rollout.targets[1]!.labels).toEqual({ zone: 'b' });
    expect(view.rollout.options).toMatchObject({
      batch: { percent: 10 },
      soakMs: 10_000,
      deadlineMs: 60_000,
    });
    expect(view.rollout.decisions.at(-1)).toMatchObject({
      kind: 'rollout-ended',
      message: 'the rollout of v2 ended: succeeded',
    });
    const list = await call('GET', '/v1/targets');
    expect(list.body).toMatchObject({
      rollouts: [{ namespace: 'prod', entity: 'web', status: 'succeeded', lkg: 'v2' }],
    });
  });

  it('a release failing on a target past its deadline is last known bad: every target is answered v1 again', async () => {
    const clients = new Clients('/v1/targets/prod/api', ['a', 'b', 'c'], 'v1');
    await call('POST', '/v1/targets/prod/api/deploy', { version: 'v1', options: { batch: 3, soakMs: 0 } });
    await clients.report();
    await clients.report();
    await call('POST', '/v1/targets/prod/api/deploy', {
      version: 'v2',
      options: { batch: 1, soakMs: '5s', deadlineMs: '20s' },
    });
    clients.failing.add('v2');
    let answer = await clients.report();
    for (let second = 0; second < 120 && answer.rollout.status !== 'rolled-back'; second++) {
      await clock.advance(1_000);
      answer = await clients.report();
    }
    expect(answer.rollout).toMatchObject({ status: 'rolled-back', lkg: 'v1', lkb: 'v2' });
    expect(clients.count('v1')).toBe(3);
    const { body } = await call<TargetsRolloutResponse>('GET', '/v1/targets/prod/api');
    const failed = body.rollout.decisions.find((d) => d.kind === 'target-failed');
    expect(failed?.message).toMatch(
      /^a failed on v2: not healthy on v2 within 20\.0s .*GET \/healthz -> 503/,
    );
    // The last known bad release is refused without force, and nothing changes.
    const again = await call<ErrorAnswer>('POST', '/v1/targets/prod/api/deploy', { version: 'v2' });
    expect([again.status, again.body.error.code]).toEqual([409, 'FERRY_E_RELEASE_BAD']);
    const pause = await call<ErrorAnswer>('POST', '/v1/targets/prod/api/command', { command: 'pause' });
    expect([pause.status, pause.body.error.code]).toEqual([409, 'FERRY_E_ILLEGAL_STATE']);
    expect(pause.body.error.message).toMatch(/only a running rollout can be paused/);
  });

  it('pauses, resumes and aborts; names are data (__proto__ and constructor are targets like any other)', async () => {
    const clients = new Clients('/v1/targets/ns/svc', ['__proto__', 'constructor', 'toString'], 'v1');
    await call('POST', '/v1/targets/ns/svc/deploy', { version: 'v1', options: { batch: '100%', soakMs: 0 } });
    await clients.report();
    await clients.report();
    await call('POST', '/v1/targets/ns/svc/deploy', { version: 'v2', options: { batch: 1, soakMs: '1m' } });
    const paused = await call<TargetsRolloutResponse>('POST', '/v1/targets/ns/svc/command', {
      command: 'pause',
    });
    expect(paused.body.rollout.status).toBe('paused');
    expect(
      (await call<TargetsRolloutResponse>('POST', '/v1/targets/ns/svc/command', { command: 'resume' })).body
        .rollout.status,
    ).toBe('running');
    const answered = await clients.report();
    expect(answered.targets.map((t) => [t.name, t.version])).toEqual([
      ['__proto__', 'v2'],
      ['constructor', 'v1'],
      ['toString', 'v1'],
    ]);
    const aborted = await call<TargetsRolloutResponse>('POST', '/v1/targets/ns/svc/command', {
      command: 'abort',
    });
    expect(aborted.body.rollout).toMatchObject({ status: 'rolling-back', ending: { reason: 'abort' } });
    expect((await clients.report()).targets.map((t) => t.version)).toEqual(['v1', 'v1', 'v1']);
  });

  it('a restarted server resumes each entity where it was, and its clients carry on', async () => {
    const clients = new Clients('/v1/targets/prod/web', names(4), 'v1');
    await call('POST', '/v1/targets/prod/web/deploy', {
      version: 'v1',
      options: { batch: '100%', soakMs: 0 },
    });
    await clients.report();
    await clients.report();
    await call('POST', '/v1/targets/prod/web/deploy', {
      version: 'v2',
      options: { batch: 2, soakMs: '10s' },
    });
    await clients.report();
    const before = (await call<TargetsRolloutResponse>('GET', '/v1/targets/prod/web')).body.rollout;
    // The server stops and starts again on the same store.
    await targets.close();
    targets = await startExternalTargets({ kv, logger: silentLogger(), clock });
    await api.close();
    api = createApiServer({
      control: { targets } as unknown as ControlPlane,
      token: TOKEN,
      logger: silentLogger(),
    });
    await api.listen({ host: '127.0.0.1', port: 0 });
    base = `http://127.0.0.1:${(api.server.address() as AddressInfo).port}`;
    const after = (await call<TargetsRolloutResponse>('GET', '/v1/targets/prod/web')).body.rollout;
    expect(after.targets).toEqual(before.targets);
    expect(after.decisions.at(-1)?.kind).toBe('recovered');
    let answer = await clients.report();
    for (let second = 0; second < 60 && answer.rollout.status === 'running'; second++) {
      await clock.advance(1_000);
      answer = await clients.report();
    }
    expect(answer.rollout).toMatchObject({ status: 'succeeded', lkg: 'v2' });
  });

  it('refuses bad requests with a clear error and changes nothing', async () => {
    await call('POST', '/v1/targets/prod/web/deploy', { version: 'v1', options: { soakMs: '30s' } });
    const revision = await kv.revision();
    const refusals: [string, string, unknown, number, string, RegExp][] = [
      [
        'POST',
        '/v1/targets/Prod!/web/report',
        { targets: [] },
        400,
        'FERRY_E_USAGE',
        /path\.namespace: expected a namespace of lowercase/,
      ],
      ['POST', '/v1/targets/prod/__proto__/report', { targets: [] }, 400, 'FERRY_E_USAGE', /path\.entity/],
      [
        'POST',
        '/v1/targets/prod/web/report',
        { targets: [{ name: '../etc', version: 'v1' }] },
        400,
        'FERRY_E_USAGE',
        /body\.targets\.0\.name: expected a target name/,
      ],
      [
        'POST',
        '/v1/targets/prod/web/report',
        { targets: [{ name: 'a', version: 'current' }] },
        400,
        'FERRY_E_USAGE',
        /body\.targets\.0\.version: expected letters, digits/,
      ],
      [
        'POST',
        '/v1/targets/prod/web/report',
        { targets: [{ name: 'a' }, { name: 'a' }] },
        400,
        'FERRY_E_USAGE',
        /body\.targets\.1\.name: expected each target once, got "a" again \(first at targets\.0\)/,
      ],
      [
        'POST',
        '/v1/targets/prod/web/report',
        { targets: [{ name: 'a', labels: { Zone: 'x' } }] },
        400,
        'FERRY_E_USAGE',
        /body\.targets\.0\.labels/,
      ],
      [
        'POST',
        '/v1/targets/prod/web/deploy',
        { version: '../v2' },
        400,
        'FERRY_E_USAGE',
        /body\.version: expected letters/,
      ],
      [
        'POST',
        '/v1/targets/prod/web/deploy',
        { version: 'v2', options: { batch: '0%' } },
        400,
        'FERRY_E_USAGE',
        /body\.options\.batch: expected a whole percent 1-100 like "5%", got 0/,
      ],
      [
        'POST',
        '/v1/targets/prod/web/deploy',
        { version: 'v2', options: { batch: 'half' } },
        400,
        'FERRY_E_USAGE',
        /body\.options\.batch: expected a share of the targets like "10%" or a count like 3, got "half"/,
      ],
      [
        'POST',
        '/v1/targets/prod/web/deploy',
        { version: 'v2', options: { soakMs: 'fast' } },
        400,
        'FERRY_E_USAGE',
        /body\.options\.soakMs: expected a duration like "30s"/,
      ],
      [
        'POST',
        '/v1/targets/prod/web/deploy',
        { version: 'v2', options: { successPercent: 101 } },
        400,
        'FERRY_E_USAGE',
        /body\.options\.successPercent: expected a whole percent 0-100, got 101/,
      ],
      [
        'POST',
        '/v1/targets/prod/web/deploy',
        { version: 'v2', options: { canary: { analysis: true } } },
        400,
        'FERRY_E_USAGE',
        /body\.options\.canary\.analysis: expected a fleet-monitor controller/,
      ],
      [
        'POST',
        '/v1/targets/prod/web/deploy',
        { version: 'v2', options: { controllers: { approval: { url: 'ftp://x/' } } } },
        400,
        'FERRY_E_USAGE',
        /body\.options\.controllers\.approval\.url: expected an http:\/\/ or https:\/\/ URL/,
      ],
      [
        'POST',
        '/v1/targets/prod/web/deploy',
        { version: 'v2', options: { batchPercent: 5 } },
        400,
        'FERRY_E_USAGE',
        /batchPercent/,
      ],
      ['POST', '/v1/targets/prod/web/command', { command: 'promote' }, 400, 'FERRY_E_USAGE', /body\.command/],
      [
        'POST',
        '/v1/targets/prod/nope/command',
        { command: 'pause' },
        404,
        'FERRY_E_ROLLOUT_UNKNOWN',
        /no rollout of entity "nope" in namespace "prod"/,
      ],
      [
        'GET',
        '/v1/targets/prod/nope',
        undefined,
        404,
        'FERRY_E_ROLLOUT_UNKNOWN',
        /it is created by its first report or deploy/,
      ],
    ];
    for (const [method, path, body, status, code, message] of refusals) {
      const answer = await call<ErrorAnswer>(method as 'GET' | 'POST', path, body);
      expect([answer.status, answer.body.error?.code], `${method} ${path} ${JSON.stringify(body)}`).toEqual([
        status,
        code,
      ]);
      expect(answer.body.error.message).toMatch(message);
    }
    expect((await call<ErrorAnswer>('GET', '/v1/targets', undefined, 'wrong')).status).toBe(401);
    expect(await kv.revision()).toBe(revision);
    const { body } = await call<TargetsRolloutResponse>('GET', '/v1/targets/prod/web');
    expect(body.rollout.options).toMatchObject({
      batch: { percent: 5 },
      soakMs: 30_000,
      successPercent: 100,
    });
    // An unknown entity looked at is not created.
    expect((await call<{ rollouts: unknown[] }>('GET', '/v1/targets')).body.rollouts).toHaveLength(1);
  });

  it('shows controllers without their credentials', async () => {
    const url = 'http://ops:hunter2-pass@127.0.0.1:9/hook?token=sekrit-token-1';
    const answer = await call<TargetsRolloutResponse>('POST', '/v1/targets/prod/web/deploy', {
      version: 'v1',
      options: { controllers: { approval: { url, timeoutMs: '10m' } } },
    });
    expect(answer.status).toBe(202);
    expect(answer.body.rollout.options.controllers.approval).toEqual({
      url: 'http://127.0.0.1:9/hook?token=***',
      timeoutMs: 600_000,
      at: 'start',
    });
    expect(JSON.stringify(answer.body)).not.toMatch(/hunter2|sekrit-token-1/);
  });
});
