import { afterEach, describe, expect, it } from 'vitest';
import type { LogLine } from '../../api/types.js';
import { FerryError } from '../../errors/ferry-error.js';
import { FakeClock } from '../../lib/clock.js';
import { followLogs, type FollowedHost, type LogCursor, type LogsAnswer } from './log-follow.js';

const POLL = 1_000;
const RELIST = 5_000;

/** A host's log as its agent answers a `tail-logs` task: lines appended, read after each offset. */
class FakeHostLog {
  /** Per instance: its version and its lines (a line's offset is its index). */
  readonly instances = new Map<string, { version: string; lines: string[] }>();
  /** At most this many lines per answer (the reply bound); the rest is `more`. */
  perAnswer = 100;
  /** Set: the next asks fail with it. */
  failure: Error | null = null;
  /** Answers without offsets, as an agent of an older Ferry does. */
  old = false;
  /** Runs none of the app. */
  none = false;
  readonly asked: Array<{ at: number; after: LogCursor | undefined }> = [];

  constructor(private readonly clock: FakeClock) {}

  write(instance: string, version: string, ...lines: string[]): void {
    const log = this.instances.get(instance) ?? { version, lines: [] };
    log.lines.push(...lines);
    this.instances.set(instance, log);
  }

  answer(after: LogCursor | undefined, lines: number): Promise<LogsAnswer | null> {
    this.asked.push({ at: this.clock.now(), after });
    if (this.failure !== null) return Promise.reject(this.failure);
    if (this.none) return Promise.resolve(null);
    const answer: LogsAnswer = [...this.instances].map(([instance, log]) => {
      const from =
        after === undefined
          ? Math.max(0, log.lines.length - lines)
          : (after.find((c) => c.instance === instance)?.offset ?? 0);
      const read = log.lines.slice(from, from + this.perAnswer);
      const end = from + read.length;
      return {
        instance,
        version: log.version,
        lines: read,
        ...(this.old ? {} : { end }),
        ...(end < log.lines.length ? { more: true } : {}),
      };
    });
    return Promise.resolve(answer);
  }
}

const stops: AbortController[] = [];
afterEach(() => {
  for (const stop of stops.splice(0)) stop.abort();
});

/** A follow over fake hosts on a fake clock; `listed` is what the hosts' listing answers now. */
function follow(clock: FakeClock, logs: Map<string, FakeHostLog>, listed: FollowedHost[], lines = 2) {
  const sent: LogLine[] = [];
  const stop = new AbortController();
  stops.push(stop);
  const done = followLogs(
    {
      clock,
      hosts: () => Promise.resolve([...listed]),
      ask: (host, after) => logs.get(host)!.answer(after, lines),
      pollMs: POLL,
      relistMs: RELIST,
    },
    { signal: stop.signal, send: (line) => sent.push(line) },
  );
  return { sent, stop, done, listed };
}

const text = (lines: LogLine[]) =>
  lines.map((l) => `${l.host ?? ''}|${l.instance}|${l.line}|${l.at === undefined ? '-' : l.at}`);

describe('followLogs', () => {
  it('sends the last lines first (no time), then the new lines after where each answer ended, with the time read', async () => {
    const clock = new FakeClock(0);
    const local = new FakeHostLog(clock);
    local.write('web-aa', '1.0.0', 'a1', 'a2', 'a3');
    const f = follow(clock, new Map([['local', local]]), [{ id: 'local' }]);
    await clock.advance(0);
    expect(text(f.sent)).toEqual(['|web-aa|a2|-', '|web-aa|a3|-']);
    expect(local.asked).toEqual([{ at: 0, after: undefined }]);

    local.write('web-aa', '1.0.0', 'a4');
    local.write('web-bb', '1.1.0', 'b1');
    await clock.advance(POLL);
    expect(local.asked[1]).toEqual({
      at: POLL,
      after: [{ instance: 'web-aa', version: '1.0.0', offset: 3 }],
    });
    // A new instance comes from its first line; lines are read once.
    expect(text(f.sent.slice(2))).toEqual([`|web-aa|a4|${POLL}`, `|web-bb|b1|${POLL}`]);
    await clock.advance(POLL);
    expect(f.sent).toHaveLength(4);
    expect(f.sent[3]).toMatchObject({ instance: 'web-bb', version: '1.1.0' });
  });

  it('asks again at once while an answer says there is more', async () => {
    const clock = new FakeClock(0);
    const local = new FakeHostLog(clock);
    const f = follow(clock, new Map([['local', local]]), [{ id: 'local' }]);
    await clock.advance(0);
    local.perAnswer = 10;
    local.write('web-aa', '1.0.0', ...Array.from({ length: 35 }, (_, i) => `line ${i + 1}`));
    await clock.advance(POLL);
    expect(f.sent.map((l) => l.line)).toEqual(Array.from({ length: 35 }, (_, i) => `line ${i + 1}`));
    // Four asks at the same moment (10 + 10 + 10 + 5 lines), then the poll interval again.
    expect(local.asked.filter((a) => a.at === POLL)).toHaveLength(4);
  });

  it('a host that does not answer: one line, asked again with backoff; the others go on; a line when it is back', async () => {
    const clock = new FakeClock(0);
    const a = new FakeHostLog(clock);
    const b = new FakeHostLog(clock);
    const f = follow(
      clock,
      new Map([
        ['h-a', a],
        ['h-b', b],
      ]),
      [
        { id: 'h-a', name: 'web-a' },
        { id: 'h-b', name: 'web-b' },
      ],
    );
    await clock.advance(0);
    a.failure = new FerryError('FERRY_E_HOST_TIMEOUT', 'host h-a: expected the log lines, got no report');
    for (let s = 1; s <= 16; s++) {
      b.write('web-bb', '1.0.0', `b at ${s}`);
      await clock.advance(POLL);
    }
    const fromA = f.sent.filter((l) => l.host === 'web-a');
    expect(fromA.map((l) => l.line)).toEqual([
      '(no answer: host h-a: expected the log lines, got no report; asking again)',
    ]);
    expect(fromA[0]).toMatchObject({ instance: '-', version: '-' });
    // Asked at 1 s, then after 1, 2, 4, 8 s.
    expect(a.asked.map((x) => x.at)).toEqual([0, 1_000, 2_000, 4_000, 8_000, 16_000]);
    expect(f.sent.filter((l) => l.host === 'web-b').map((l) => l.line)).toEqual(
      Array.from({ length: 16 }, (_, i) => `b at ${i + 1}`),
    );
    a.failure = null;
    a.write('web-aa', '1.0.0', 'a back');
    await clock.advance(16_000);
    expect(f.sent.filter((l) => l.host === 'web-a').map((l) => l.line)).toEqual([
      '(no answer: host h-a: expected the log lines, got no report; asking again)',
      '(answering again)',
      'a back',
    ]);
  });

  it('follows a host listed later from its instances’ first lines, and lets go of one no longer listed', async () => {
    const clock = new FakeClock(0);
    const a = new FakeHostLog(clock);
    const b = new FakeHostLog(clock);
    a.write('web-aa', '1.0.0', 'a1', 'a2', 'a3');
    b.write('web-bb', '1.0.0', 'b1', 'b2', 'b3');
    const logs = new Map([
      ['h-a', a],
      ['h-b', b],
    ]);
    const f = follow(clock, logs, [{ id: 'h-a', name: 'web-a' }]);
    await clock.advance(0);
    f.listed.push({ id: 'h-b', name: 'web-b' });
    await clock.advance(RELIST);
    expect(b.asked[0]).toEqual({ at: RELIST, after: [] });
    expect(f.sent.filter((l) => l.host === 'web-b').map((l) => l.line)).toEqual(['b1', 'b2', 'b3']);

    f.listed.splice(0, 1);
    await clock.advance(RELIST);
    const asks = a.asked.length;
    a.write('web-aa', '1.0.0', 'a4');
    await clock.advance(3 * RELIST);
    expect(a.asked).toHaveLength(asks);
    expect(f.sent.some((l) => l.line === 'a4')).toBe(false);
  });

  it('a host that runs none of the app yet: what it starts later comes from its first line', async () => {
    const clock = new FakeClock(0);
    const local = new FakeHostLog(clock);
    local.none = true;
    const f = follow(clock, new Map([['local', local]]), [{ id: 'local' }]);
    await clock.advance(POLL);
    local.none = false;
    local.write('web-aa', '1.0.0', 'a1', 'a2', 'a3');
    await clock.advance(POLL);
    expect(local.asked.map((a) => a.after)).toEqual([undefined, [], []]);
    expect(f.sent.map((l) => l.line)).toEqual(['a1', 'a2', 'a3']);
  });

  it("an older agent's answer (no offsets): its last lines, a line saying it cannot follow, and no more asks", async () => {
    const clock = new FakeClock(0);
    const a = new FakeHostLog(clock);
    a.old = true;
    a.write('web-aa', '1.0.0', 'a1', 'a2', 'a3');
    const f = follow(clock, new Map([['h-a', a]]), [{ id: 'h-a', name: 'web-a' }]);
    await clock.advance(10 * POLL);
    expect(f.sent.map((l) => l.line)).toEqual([
      'a2',
      'a3',
      '(its agent cannot follow logs: it runs an older Ferry; ferry logs without -f shows its last lines)',
    ]);
    expect(a.asked).toHaveLength(1);
  });

  it('ends when its signal aborts: no more asks, nothing sent after, no timer left', async () => {
    const clock = new FakeClock(0);
    const local = new FakeHostLog(clock);
    const f = follow(clock, new Map([['local', local]]), [{ id: 'local' }]);
    await clock.advance(POLL);
    f.stop.abort();
    await f.done;
    const asks = local.asked.length;
    local.write('web-aa', '1.0.0', 'late');
    await clock.advance(10 * RELIST);
    expect(local.asked).toHaveLength(asks);
    expect(f.sent).toEqual([]);
    expect(clock.pending).toBe(0);
  });
});
