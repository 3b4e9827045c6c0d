import { afterEach, describe, expect, it } from 'vitest';
import { waitFor } from '../../../test/support/wait.js';
import { parseRecord } from './rollout-record.js';
import type { RolloutSettings } from './rollout-run.js';
import { json, startControllerServer, type ControllerServer } from './test-support/controller-server.js';
import { runHarness, type RunHarness } from './test-support/fleet.js';

/** The runtime asking a real approval controller over HTTP (127.0.0.1, port 0). */

const open: { h: RunHarness; server: ControllerServer }[] = [];
afterEach(async () => {
  for (const { h, server } of open.splice(0)) {
    await h.close();
    await server.close();
  }
});

async function setUp(behaviour: Parameters<typeof startControllerServer>[0]) {
  const server = await startControllerServer(behaviour);
  const h = await runHarness({
    names: ['a', 'b'],
    options: { batch: { count: 1 }, controllers: { approval: { timeoutMs: 30_000 } } },
  });
  open.push({ h, server });
  await h.report();
  const url = server.url('/approve?token=sekrit-approval-token');
  const withEndpoint = (current: RolloutSettings): RolloutSettings => ({
    ...current,
    endpoints: { approval: url },
  });
  return { h, server, deploy: () => h.run.deploy({ version: 'v2', actor: 'ops', configure: withEndpoint }) };
}

describe('RolloutRun: controllers over HTTP', () => {
  it('asks the approval controller and goes on with its answer', async () => {
    const { h, server, deploy } = await setUp(() => json({ approved: true, by: 'bob' }));
    const started = await deploy();
    expect(started.gate).toMatchObject({ kind: 'approval' });
    await waitFor('the approval to be stepped', () => h.run.current!.gate === null);
    expect(server.questions).toEqual([
      {
        id: 'c1',
        app: 'web',
        env: 'production',
        version: 'v2',
        controller: 'approval',
        at: 'start',
        deadline: started.updatedAt + 30_000,
      },
    ]);
    expect(h.decided('controller-answered').map((d) => d.outcome)).toEqual(['approved by bob']);
    expect(h.fleet.assignments.filter((a) => a.version === 'v2')).toEqual([{ target: 'a', version: 'v2' }]);
  });

  it('an approval controller answering 500 fails the step: the rollout returns, the token never shown', async () => {
    const { h, deploy } = await setUp(() => ({ status: 500, body: 'approvals are down' }));
    await deploy();
    await waitFor('the failure to be stepped', () => h.run.current!.status === 'aborted');
    const [failed] = h.decided('controller-failed');
    expect(failed?.reason).toMatch(/answered HTTP 500: approvals are down$/);
    const log = JSON.stringify(
      parseRecord((await h.kv.get(h.run.storeKey))!.value, h.run.storeKey).state.log,
    );
    expect(log).toContain('/approve?token=*** answered HTTP 500');
    expect(log).not.toContain('sekrit-approval-token');
    expect(h.fleet.assignments.filter((a) => a.version === 'v2')).toEqual([]);
  });

  it('a controller that hangs past the deadline fails the step on the clock; the rollout is never blocked', async () => {
    const { h, server, deploy } = await setUp(() => null);
    await deploy();
    await waitFor('the question to arrive', () => server.questions.length === 1);
    await h.advance(29_000);
    expect(h.run.current!.status).toBe('running');
    await h.advance(1_000);
    await waitFor('the rollout to give up', () => h.run.current!.status === 'aborted');
    await waitFor('the held request to be closed', () => server.abandoned() === 1);
    expect(h.decided('controller-failed')).toHaveLength(1);
    // Still steps: a report goes through at once.
    await expect(h.report(1_000)).resolves.toMatchObject({ status: 'aborted', lkg: 'v1' });
  });
});
