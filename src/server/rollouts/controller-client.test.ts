import { afterEach, describe, expect, it } from 'vitest';
import { waitFor } from '../../../test/support/wait.js';
import { FakeClock } from '../../lib/clock.js';
import type { ControllerQuestion } from '../../rollout/index.js';
import { askController, MAX_ANSWER_BYTES } from './controller-client.js';
import { json, startControllerServer, type ControllerServer } from './test-support/controller-server.js';

const servers: ControllerServer[] = [];
afterEach(async () => {
  for (const server of servers.splice(0)) await server.close();
});

async function controller(...args: Parameters<typeof startControllerServer>): Promise<ControllerServer> {
  const server = await startControllerServer(...args);
  servers.push(server);
  return server;
}

function question(
  clock: FakeClock,
  kind: 'approval' | 'selection' | 'fleet-monitor' = 'approval',
): ControllerQuestion {
  const base = { id: 'c1', app: 'web', env: 'production', version: 'v2', deadline: clock.now() + 30_000 };
  switch (kind) {
    case 'approval':
      return { ...base, controller: 'approval', at: 'start' };
    case 'selection':
      return {
        ...base,
        controller: 'selection',
        batch: 1,
        count: 2,
        mode: 'in-place',
        candidates: ['a', 'b', 'c'],
      };
    case 'fleet-monitor':
      return { ...base, controller: 'fleet-monitor', purpose: 'batch', batch: 1, targets: ['a'] };
  }
}

describe('askController', () => {
  it('POSTs the question as JSON and reads the answer of its kind', async () => {
    const clock = new FakeClock();
    const server = await controller((q) =>
      q.controller === 'approval'
        ? json({ approved: true, by: 'bob', extra: 'ignored' })
        : q.controller === 'selection'
          ? json({ targets: ['b', 'c'] })
          : json({ verdict: 'fail', reason: 'p99 up 40%' }),
    );
    await expect(askController(server.url('/approve'), question(clock), { clock })).resolves.toEqual({
      controller: 'approval',
      approved: true,
      by: 'bob',
    });
    await expect(askController(server.url(), question(clock, 'selection'), { clock })).resolves.toEqual({
      controller: 'selection',
      targets: ['b', 'c'],
    });
    await expect(askController(server.url(), question(clock, 'fleet-monitor'), { clock })).resolves.toEqual({
      controller: 'fleet-monitor',
      verdict: 'fail',
      reason: 'p99 up 40%',
    });
    expect(server.questions[0]).toEqual(question(clock));
  });

  it('fails on an HTTP error, an answer that is not JSON or not of its kind, one too large, no server', async () => {
    const clock = new FakeClock();
    const server = await controller();
    const failure = async (answer: { status: number; body: string } | null, url = server.url()) => {
      server.behave(() => answer);
      return askController(url, question(clock), { clock }).then(
        () => undefined,
        (error: unknown) => error as { code: string; message: string },
      );
    };
    expect(await failure({ status: 500, body: 'database down' })).toMatchObject({
      code: 'FERRY_E_CONTROLLER_FAILED',
      message: `the approval controller at ${server.url()} answered HTTP 500: database down`,
    });
    expect((await failure({ status: 200, body: '<html>' }))?.message).toMatch(
      /answered something that is not JSON$/,
    );
    expect((await failure(json({ approved: 'yes' })))?.message).toMatch(
      /answered answer\.approved: .*expected boolean.* \(expected \{"approved": true\|false/,
    );
    expect((await failure(json({ pad: 'x'.repeat(MAX_ANSWER_BYTES) })))?.message).toMatch(
      /answered more than 65536 bytes$/,
    );
    const gone = await startControllerServer();
    const goneUrl = gone.url();
    await gone.close();
    expect((await failure(null, goneUrl))?.message).toMatch(/could not be reached: .*ECONNREFUSED/);
  });

  it('gives up at the question’s deadline on the clock: a controller that hangs never blocks', async () => {
    const clock = new FakeClock();
    const server = await controller(() => null);
    const asked = askController(server.url(), question(clock), { clock });
    const outcome = asked.then(
      () => 'answered',
      (error: { message: string }) => error.message,
    );
    await waitFor('the question to arrive', () => server.questions.length === 1);
    await clock.advance(29_999);
    expect(server.abandoned()).toBe(0);
    await clock.advance(1);
    expect(await outcome).toMatch(/did not answer by its deadline \(30\.0s after it was asked\)$/);
    await waitFor('the held request to be closed', () => server.abandoned() === 1);
    expect(clock.pending).toBe(0);
  });

  it('never shows the credentials of its URL', async () => {
    const clock = new FakeClock();
    const server = await controller(() => ({
      status: 403,
      body: 'refused s3cr3t-token-value for user:p4ssw0rd-x',
    }));
    const url = server.url('/approve?token=s3cr3t-token-value').replace('http://', 'http://user:p4ssw0rd-x@');
    const error = (await askController(url, question(clock), { clock }).catch((e: unknown) => e)) as {
      message: string;
      details: unknown;
    };
    const shown = JSON.stringify({ message: error.message, details: error.details });
    expect(shown).toContain('answered HTTP 403');
    expect(shown).not.toContain('s3cr3t-token-value');
    expect(shown).not.toContain('p4ssw0rd-x');
    expect(shown).toContain('token=***');
  });
});
