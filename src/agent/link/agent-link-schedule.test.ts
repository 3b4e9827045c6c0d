import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FerryError } from '../../errors/ferry-error.js';
import { FakeClock, sleep } from '../../lib/clock.js';
import type { Logger } from '../../lib/logger.js';
import type { HostDesiredState } from '../../protocol/desired-state.js';
import type { HostReport } from '../../protocol/report.js';
import { draftRunning, hostReport } from '../../protocol/test-support/messages.js';
import { waitFor } from '../../supervisor/test-support/wait.js';
import { AgentLink, type AgentLinkOptions } from './agent-link.js';
import { saveDesiredState } from './desired-file.js';
import type { AgentTransport } from './transport.js';

type PollAnswer = { doc: unknown } | null;

/**
 * A transport whose answers the test scripts, on the fake clock: each call takes the next answer
 * (or the last one again). It records when each call came, and how many reports are in flight.
 */
class ScriptedTransport implements AgentTransport {
  readonly target = 'scripted';
  readonly polls: number[] = [];
  readonly sends: Array<{ at: number; report: HostReport }> = [];
  inFlight = 0;
  maxInFlight = 0;
  pollAnswers: Array<(signal: AbortSignal) => Promise<PollAnswer>> = [];
  sendAnswers: Array<(signal: AbortSignal) => Promise<void>> = [];

  constructor(private readonly clock: FakeClock) {}

  pollDesired(_after: number, signal: AbortSignal): Promise<PollAnswer> {
    this.polls.push(this.clock.now());
    return next(this.pollAnswers)(signal);
  }

  async sendReport(report: HostReport, signal: AbortSignal): Promise<void> {
    this.sends.push({ at: this.clock.now(), report });
    this.inFlight += 1;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    try {
      await next(this.sendAnswers)(signal);
    } finally {
      this.inFlight -= 1;
    }
  }
}

function next<T>(answers: T[]): T {
  const answer = answers.length > 1 ? answers.shift() : answers[0];
  if (answer === undefined) throw new Error('no answer scripted');
  return answer;
}

const unreachable = () =>
  Promise.reject(new FerryError('FERRY_E_SERVER_UNREACHABLE', 'connect ECONNREFUSED'));
const never = (signal: AbortSignal) =>
  new Promise<never>((_resolve, reject) =>
    signal.addEventListener('abort', () => reject(new Error('aborted'))),
  );
const taken = () => Promise.resolve();

let dir: string;
let clock: FakeClock;
let transport: ScriptedTransport;
let link: AgentLink | null;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ferry-link-'));
  clock = new FakeClock();
  transport = new ScriptedTransport(clock);
  link = null;
});

afterEach(async () => {
  await link?.stop();
  await rm(dir, { recursive: true, force: true });
});

function startLink(overrides: Partial<AgentLinkOptions> = {}) {
  const applied: HostDesiredState[] = [];
  link = new AgentLink({
    transport,
    hostId: 'h1',
    dataDir: dir,
    apply: (doc) => {
      applied.push(doc);
    },
    clock,
    random: () => 0.5,
    backoff: { initialMs: 1_000, maxMs: 8_000 },
    heartbeatMs: 10_000,
    ...overrides,
  });
  return { link, applied };
}

const doc = (revision: number, host = 'h1'): HostDesiredState => ({
  host,
  revision,
  ...draftRunning(`${revision}.0.0`),
});

describe('AgentLink: polling without the server (fake clock)', () => {
  it('backs off exponentially with jitter, capped, and starts over after a success', async () => {
    transport.pollAnswers = [unreachable];
    const { link } = startLink();
    const t0 = clock.now();
    await link.start();
    // Ceilings 1, 2, 4, 8, 8 s; with random 0.5 the waits are 3/4 of them.
    for (const wait of [750, 1_500, 3_000, 6_000, 6_000]) await clock.advance(wait);
    expect(transport.polls.map((t) => t - t0)).toEqual([0, 750, 2_250, 5_250, 11_250, 17_250]);
    expect(link.status).toMatchObject({
      connection: 'disconnected',
      since: t0,
      lastError: { code: 'FERRY_E_SERVER_UNREACHABLE', message: 'connect ECONNREFUSED', at: t0 + 17_250 },
    });

    // The server is back: two polls answer nothing new after its bound (5 s here), the next fails.
    const bound = (signal: AbortSignal) => sleep(clock, 5_000, signal).then(() => null);
    transport.pollAnswers = [bound, bound, unreachable];
    await clock.advance(6_000);
    const back = clock.now();
    await clock.advance(5_000);
    expect(link.status).toMatchObject({ connection: 'connected', since: back + 5_000 });
    await clock.advance(5_000);
    expect(link.status).toMatchObject({ connection: 'disconnected', since: back + 10_000 });
    // The backoff starts over at its first step.
    await clock.advance(750);
    expect(transport.polls.slice(6).map((t) => t - back)).toEqual([0, 5_000, 10_000, 10_750]);
  });

  it('gives up on a poll the server never answers (a link cut without a reset) at its deadline', async () => {
    transport.pollAnswers = [never];
    const { link } = startLink({ pollDeadlineMs: 60_000 });
    await link.start();
    await clock.advance(59_999);
    expect(link.status.connection).toBe('connecting');
    await clock.advance(1);
    expect(link.status).toMatchObject({
      connection: 'disconnected',
      lastError: {
        code: 'FERRY_E_SERVER_UNREACHABLE',
        message: 'the Ferry server at scripted did not answer a poll within 60s',
      },
    });
    await clock.advance(750);
    expect(transport.polls).toHaveLength(2);
  });

  it('applies the kept desired state at start, before asking the server, and keeps it without one', async () => {
    await saveDesiredState(dir, doc(7));
    transport.pollAnswers = [unreachable];
    let pollsAtApply = -1;
    const applied: number[] = [];
    const { link } = startLink({
      apply: (d) => {
        pollsAtApply = transport.polls.length;
        applied.push(d.revision);
      },
    });
    await link.start();
    expect(applied).toEqual([7]);
    expect(pollsAtApply).toBe(0);
    await clock.advance(60_000);
    expect(applied).toEqual([7]);
    expect(link.desired?.revision).toBe(7);
    expect(link.status).toMatchObject({ connection: 'disconnected', revision: 7 });
  });
});

describe('AgentLink: documents from the server', () => {
  it('ignores a document older than the one it has, and refuses an invalid one or one for another host', async () => {
    await saveDesiredState(dir, doc(7));
    transport.pollAnswers = [
      () => Promise.resolve({ doc: doc(5) }),
      () => Promise.resolve({ doc: { host: 'h1', revision: 9, apps: 'none' } }),
      () => Promise.resolve({ doc: doc(9, 'h2') }),
      () => Promise.resolve({ doc: doc(9) }),
      never,
    ];
    const warnings: string[] = [];
    const logger = {
      warn: (fields: { err?: string }, message: string) => warnings.push(fields.err ?? message),
    } as unknown as Logger;
    const { link, applied } = startLink({ backoff: { initialMs: 10, maxMs: 10 }, logger });
    await link.start();
    await waitFor('revision 9 to be applied', async () => {
      await clock.advance(10);
      return applied.length === 2;
    });
    expect(warnings).toEqual([
      'ignored a desired state older than the one kept',
      expect.stringMatching(/^the server sent a desired state that is not valid: desired\.apps: /),
      'the server sent the desired state of host "h2", expected this host\'s ("h1")',
    ]);
    expect(link.status.lastError?.code).toBe('FERRY_E_PROTOCOL');
    expect(applied.map((d) => d.revision)).toEqual([7, 9]);
    expect(transport.polls).toHaveLength(5);
    // The server answered every time: a refused document is no lost connection.
    expect(link.status.connection).toBe('connected');
  });
});

describe('AgentLink: reports (fake clock)', () => {
  it('sends the latest report again at every heartbeat, counted from the last send', async () => {
    transport.pollAnswers = [never];
    transport.sendAnswers = [taken];
    const { link } = startLink();
    const t0 = clock.now();
    await link.start();
    link.report(hostReport('h1', 1, 'r1'));
    await clock.advance(9_999);
    expect(transport.sends.map((s) => s.at - t0)).toEqual([0]);
    await clock.advance(1);
    await clock.advance(5_000);
    link.report(hostReport('h1', 1, 'r2'));
    await clock.advance(10_000);
    expect(transport.sends.map((s) => [s.at - t0, s.report.agentVersion])).toEqual([
      [0, 'r1'],
      [10_000, 'r1'],
      [15_000, 'r2'],
      [25_000, 'r2'],
    ]);
    expect(link.status.lastReportAt).toBe(t0 + 25_000);
  });

  it('coalesces a burst: one report in flight at most, the latest given meanwhile sent next', async () => {
    transport.pollAnswers = [never];
    let release: () => void = () => undefined;
    transport.sendAnswers = [() => new Promise<void>((resolve) => (release = resolve)), taken];
    const { link } = startLink();
    await link.start();
    link.report(hostReport('h1', 1, 'r1'));
    await clock.advance(0);
    for (const note of ['r2', 'r3', 'r4']) link.report(hostReport('h1', 1, note));
    await clock.advance(0);
    expect(transport.sends).toHaveLength(1);
    release();
    await clock.advance(0);
    expect(transport.sends.map((s) => s.report.agentVersion)).toEqual(['r1', 'r4']);
    expect(transport.maxInFlight).toBe(1);
  });

  it('retries a failed report with the backoff, sending the newest one then', async () => {
    transport.pollAnswers = [never];
    transport.sendAnswers = [unreachable, unreachable, taken];
    const { link } = startLink();
    const t0 = clock.now();
    await link.start();
    link.report(hostReport('h1', 1, 'r1'));
    await clock.advance(750);
    link.report(hostReport('h1', 2, 'r2'));
    await clock.advance(1_499);
    expect(transport.sends).toHaveLength(2);
    await clock.advance(1);
    expect(transport.sends.map((s) => [s.at - t0, s.report.agentVersion])).toEqual([
      [0, 'r1'],
      [750, 'r1'],
      [2_250, 'r2'],
    ]);
    expect(link.status).toMatchObject({ connection: 'connected', lastReportAt: t0 + 2_250 });
    expect(link.status.lastError).toMatchObject({ code: 'FERRY_E_SERVER_UNREACHABLE', at: t0 + 750 });
  });

  it('refuses to take reports once stopped, naming its state', async () => {
    transport.pollAnswers = [never];
    const { link } = startLink();
    await link.start();
    await link.stop();
    expect(() => link.report(hostReport('h1', 1))).toThrow('agent link: cannot report while stopped');
    expect(clock.pending).toBe(0);
  });
});
