import { describe, expect, it } from 'vitest';
import { isFerryError } from '../../errors/ferry-error.js';
import { FakeClock } from '../../lib/clock.js';
import { draftRunning, hostReport } from '../../protocol/test-support/messages.js';
import { MAX_REPORT_BYTES } from '../../protocol/transport.js';
import { MemoryKv } from '../../store/kv/test-support/memory-kv.js';
import type { DesiredStates } from './desired-states.js';
import { HostExchange } from './host-exchange.js';
import { KvDesiredStates } from './kv-desired-states.js';

const FROM = { address: '10.0.0.7' };

/** The store's desired states, counting the watches open on it (and failing the first ones when asked). */
function countingStates(failFirstWatches = 0): DesiredStates & { open: number; opened: number } {
  const inner = new KvDesiredStates(new MemoryKv());
  let toFail = failFirstWatches;
  const states = {
    open: 0,
    opened: 0,
    get: (host: string) => inner.get(host),
    put: inner.put.bind(inner),
    watch: (...args: Parameters<DesiredStates['watch']>) => {
      states.open += 1;
      states.opened += 1;
      if (toFail-- > 0) {
        queueMicrotask(() => args[3](new Error('history compacted')));
        return { cancel: () => (states.open -= 1) };
      }
      const watch = inner.watch(...args);
      return {
        cancel: () => {
          states.open -= 1;
          watch.cancel();
        },
      };
    },
  };
  return states;
}

function thrown(action: () => unknown): unknown {
  try {
    action();
  } catch (error) {
    return error;
  }
  throw new Error('expected it to throw');
}

function exchange(states: DesiredStates = countingStates(), clock = new FakeClock()) {
  return { exchange: new HostExchange({ desired: states, clock, pollTimeoutMs: 25_000 }), clock, states };
}

describe('HostExchange: desired states', () => {
  it('answers at once a desired state newer than the one the agent has', async () => {
    const { exchange: ex } = exchange();
    const doc = await ex.publish('h1', draftRunning('1.0.0'));
    expect(await ex.nextDesired('h1', 0, FROM)).toEqual(doc);
    expect(await ex.desiredState('h1')).toEqual(doc);
  });

  it('holds a poll until a newer one is published, for every waiter of the host, on one store watch', async () => {
    const states = countingStates();
    const { exchange: ex } = exchange(states);
    const first = await ex.publish('h1', draftRunning('1.0.0'));
    const polls = [1, 2, 3].map(() => ex.nextDesired('h1', first?.revision ?? 0, FROM));
    const other = ex.nextDesired('h2', 0, FROM);
    await new Promise((resolve) => setImmediate(resolve));
    expect(states.open).toBe(2);
    const second = await ex.publish('h1', draftRunning('2.0.0'));
    expect(await Promise.all(polls)).toEqual([second, second, second]);
    // The host's watch ends with its last waiter; h2 still waits on its own.
    expect(states.open).toBe(1);
    const third = await ex.publish('h2', draftRunning('3.0.0'));
    expect(await other).toEqual(third);
    expect(states.open).toBe(0);
  });

  it('answers null (nothing newer) once the poll bound passes, and nothing stays open', async () => {
    const states = countingStates();
    const { exchange: ex, clock } = exchange(states);
    const doc = await ex.publish('h1', draftRunning('1.0.0'));
    const poll = ex.nextDesired('h1', doc?.revision ?? 0, FROM);
    await clock.advance(24_999);
    let answered = false;
    void poll.then(() => (answered = true));
    await clock.advance(0);
    expect(answered).toBe(false);
    await clock.advance(1);
    expect(await poll).toBeNull();
    expect(states.open).toBe(0);
    expect(clock.pending).toBe(0);
  });

  it('ends a wait when its signal aborts (the agent went away)', async () => {
    const states = countingStates();
    const { exchange: ex, clock } = exchange(states);
    const gone = new AbortController();
    const poll = ex.nextDesired('h1', 0, FROM, gone.signal);
    gone.abort(new Error('closed'));
    await expect(poll).rejects.toThrow('closed');
    await new Promise((resolve) => setImmediate(resolve));
    expect(states.open).toBe(0);
    expect(clock.pending).toBe(0);
  });

  it('reads again when its store watch fails (compacted history) and still answers', async () => {
    const states = countingStates(1);
    const { exchange: ex } = exchange(states);
    const poll = ex.nextDesired('h1', 0, FROM);
    await new Promise((resolve) => setImmediate(resolve));
    const doc = await ex.publish('h1', draftRunning('1.0.0'));
    expect(await poll).toEqual(doc);
    expect(states.opened).toBe(2);
  });

  it('fails every wait when it closes (the server stops), and refuses new ones', async () => {
    const { exchange: ex } = exchange();
    const poll = ex.nextDesired('h1', 0, FROM);
    await new Promise((resolve) => setImmediate(resolve));
    ex.close();
    await expect(poll).rejects.toMatchObject({ code: 'FERRY_E_SERVER_UNREACHABLE' });
    await expect(ex.nextDesired('h1', 0, FROM)).rejects.toMatchObject({ code: 'FERRY_E_SERVER_UNREACHABLE' });
  });
});

describe('HostExchange: reports', () => {
  const bytes = 1_000;

  it('keeps the latest report of each host with its arrival time and address; a poll counts as seen', async () => {
    const { exchange: ex, clock } = exchange();
    ex.receiveReport('h1', hostReport('h1', 1, 'first'), { ...FROM, bytes });
    await clock.advance(1_000);
    const latest = ex.receiveReport('h1', hostReport('h1', 2, 'second'), { address: '10.0.0.8', bytes });
    expect(ex.latestReport('h1')).toEqual(latest);
    expect(latest).toMatchObject({ receivedAt: clock.now(), remoteAddress: '10.0.0.8' });
    expect(latest.report.agentVersion).toBe('second');
    await clock.advance(5_000);
    const poll = ex.nextDesired('h2', 0, FROM).catch(() => null);
    expect(ex.hosts()).toEqual([
      { host: 'h1', lastSeenAt: clock.now() - 5_000, remoteAddress: '10.0.0.8', lastReport: latest },
      { host: 'h2', lastSeenAt: clock.now(), remoteAddress: FROM.address, lastReport: null },
    ]);
    ex.close();
    expect(await poll).toBeNull();
  });

  it("refuses a report for another host than the credential's (403), and changes nothing", () => {
    const { exchange: ex } = exchange();
    const error = thrown(() => ex.receiveReport('h1', hostReport('h2', 1), { ...FROM, bytes }));
    expect(isFerryError(error, 'FERRY_E_FORBIDDEN')).toBe(true);
    expect((error as Error).message).toBe(
      'report: expected a report for host "h1" (the credential\'s), got one for "h2"',
    );
    expect(ex.latestReport('h1')).toBeNull();
    expect(ex.latestReport('h2')).toBeNull();
    expect(ex.hosts()).toEqual([]);
  });

  it('refuses a malformed report naming each wrong field, and an oversized one', () => {
    const { exchange: ex } = exchange();
    const broken = { ...hostReport('h1', 1), revision: -1, apps: [{ app: 'web' }] };
    expect(thrown(() => ex.receiveReport('h1', broken, { ...FROM, bytes }))).toMatchObject({
      code: 'FERRY_E_USAGE',
      message: expect.stringMatching(/report\.revision: .*report\.apps\.0\.env/) as unknown,
    });
    const big = thrown(() =>
      ex.receiveReport('h1', hostReport('h1', 1), { ...FROM, bytes: MAX_REPORT_BYTES + 1 }),
    );
    expect(big).toMatchObject({ code: 'FERRY_E_BODY_TOO_LARGE' });
    expect(ex.latestReport('h1')).toBeNull();
  });

  it('tells listeners of each report (of one host, or all); a listener that throws stops nothing', () => {
    const { exchange: ex } = exchange();
    const all: string[] = [];
    const h1: string[] = [];
    ex.onReport(() => {
      throw new Error('listener bug');
    });
    const unsubscribe = ex.onReport((r) => all.push(r.report.host));
    ex.onReport((r) => h1.push(r.report.agentVersion), 'h1');
    ex.receiveReport('h1', hostReport('h1', 1, 'a'), { ...FROM, bytes });
    ex.receiveReport('h2', hostReport('h2', 1, 'b'), { ...FROM, bytes });
    unsubscribe();
    ex.receiveReport('h1', hostReport('h1', 2, 'c'), { ...FROM, bytes });
    expect(all).toEqual(['h1', 'h2']);
    expect(h1).toEqual(['a', 'c']);
  });

  it('waits for an acknowledgement: the first report that accepts, the latest one included', async () => {
    const { exchange: ex } = exchange();
    ex.receiveReport('h1', hostReport('h1', 3), { ...FROM, bytes });
    const atLeast = (revision: number) => (r: { report: { revision: number } }) =>
      r.report.revision >= revision;
    const signal = new AbortController().signal;
    expect((await ex.waitForReport('h1', atLeast(3), signal)).report.revision).toBe(3);
    const waiting = ex.waitForReport('h1', atLeast(5), signal);
    ex.receiveReport('h1', hostReport('h1', 4), { ...FROM, bytes });
    ex.receiveReport('h1', hostReport('h1', 5), { ...FROM, bytes });
    expect((await waiting).report.revision).toBe(5);
    const aborted = new AbortController();
    const never = ex.waitForReport('h1', atLeast(9), aborted.signal);
    aborted.abort(new Error('deadline'));
    await expect(never).rejects.toThrow('deadline');
  });
});
