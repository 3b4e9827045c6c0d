import { describe, expect, it } from 'vitest';
import { FakeClock } from '../lib/clock.js';
import { silentLogger } from '../lib/logger.js';
import type { DeliveryRequest } from './payload.js';
import { backoffMs, NotificationSender, retryAfterMs, type Post, type PostAnswer } from './sender.js';

interface Call {
  readonly body: string;
  readonly at: number;
  readonly headers: Readonly<Record<string, string>>;
}

/** A destination whose answers the test scripts: each POST takes the next answer (or throws it). */
function scripted(clock: FakeClock, answers: Array<PostAnswer | Error | 'hang'>) {
  const calls: Call[] = [];
  const post: Post = (_url, request, signal) => {
    calls.push({ body: request.body, at: clock.now(), headers: request.headers });
    const answer = answers.shift() ?? { status: 200, retryAfter: null };
    if (answer === 'hang')
      return new Promise((_resolve, reject) =>
        signal.addEventListener('abort', () => reject(signal.reason as Error)),
      );
    return answer instanceof Error ? Promise.reject(answer) : Promise.resolve(answer);
  };
  return { calls, post };
}

const request = (body: string, secret: string | null = null): DeliveryRequest => ({
  body,
  headers: { 'x-ferry-delivery': `id-${body}` },
  secret,
});

function sender(clock: FakeClock, post: Post, over: { attempts?: number; queue?: number } = {}) {
  return new NotificationSender({
    url: 'https://hooks.example/services/T0/B0/s3cretpath',
    shown: 'webhook https://hooks.example/***',
    attempts: over.attempts ?? 5,
    queue: over.queue ?? 100,
    timeoutMs: 10_000,
    clock,
    post,
    logger: silentLogger(),
    redact: (text) => text,
    random: () => 1,
  });
}

const ok = { status: 200, retryAfter: null };

describe('NotificationSender', () => {
  it('backs off exponentially with jitter, capped', () => {
    expect(backoffMs(1, () => 1)).toBe(1000);
    expect(backoffMs(1, () => 0)).toBe(500);
    expect(backoffMs(3, () => 1)).toBe(4000);
    expect(backoffMs(30, () => 1)).toBe(60_000);
  });

  it('reads Retry-After in seconds or as a date', () => {
    expect(retryAfterMs('7', 0)).toBe(7000);
    expect(retryAfterMs(new Date(20_000).toUTCString(), 5_000)).toBe(15_000);
    expect(retryAfterMs('soon', 0)).toBeNull();
    expect(retryAfterMs(null, 0)).toBeNull();
    expect(retryAfterMs('86400', 0)).toBe(300_000);
  });

  it('delivers in order, one at a time, retrying a 5xx and a network error with backoff', async () => {
    const clock = new FakeClock(0);
    const { calls, post } = scripted(clock, [
      { status: 503, retryAfter: null },
      new Error('ECONNREFUSED'),
      ok,
      ok,
    ]);
    const s = sender(clock, post);
    s.enqueue(request('a'), 'a');
    s.enqueue(request('b'), 'b');
    await clock.advance(0);
    expect(calls.map((c) => c.body)).toEqual(['a']);
    await clock.advance(999);
    expect(calls.map((c) => c.body)).toEqual(['a']);
    await clock.advance(1);
    expect(calls.map((c) => [c.body, c.at])).toEqual([
      ['a', 0],
      ['a', 1000],
    ]);
    await clock.advance(2000);
    expect(calls.map((c) => [c.body, c.at])).toEqual([
      ['a', 0],
      ['a', 1000],
      ['a', 3000],
      ['b', 3000],
    ]);
    expect(s.delivered).toBe(2);
    expect(s.pending).toBe(0);
  });

  it('honours Retry-After on a 429', async () => {
    const clock = new FakeClock(0);
    const { calls, post } = scripted(clock, [{ status: 429, retryAfter: '30' }, ok]);
    const s = sender(clock, post);
    s.enqueue(request('a'), 'a');
    await clock.advance(29_999);
    expect(calls).toHaveLength(1);
    await clock.advance(1);
    expect(calls.map((c) => c.at)).toEqual([0, 30_000]);
    expect(s.delivered).toBe(1);
  });

  it('gives a notification up after its attempts (and at once on a 4xx), then sends the next', async () => {
    const clock = new FakeClock(0);
    const down = new Error('ECONNREFUSED');
    const { calls, post } = scripted(clock, [down, down, down, { status: 404, retryAfter: null }, ok]);
    const s = sender(clock, post, { attempts: 3 });
    s.enqueue(request('a'), 'a');
    s.enqueue(request('b'), 'b');
    s.enqueue(request('c'), 'c');
    await clock.advance(60_000);
    expect(calls.map((c) => [c.body, c.at])).toEqual([
      ['a', 0],
      ['a', 1000],
      ['a', 3000],
      ['b', 3000],
      ['c', 3000],
    ]);
    expect([s.failed, s.delivered]).toEqual([2, 1]);
  });

  it('times an attempt out on its clock and retries it', async () => {
    const clock = new FakeClock(0);
    const { calls, post } = scripted(clock, ['hang', ok]);
    const s = sender(clock, post);
    s.enqueue(request('a'), 'a');
    await clock.advance(10_000);
    expect(calls).toHaveLength(1);
    await clock.advance(1000);
    expect(calls.map((c) => c.at)).toEqual([0, 11_000]);
    expect(s.delivered).toBe(1);
  });

  it('keeps at most its queue waiting, dropping the oldest and counting them', async () => {
    const clock = new FakeClock(0);
    const { calls, post } = scripted(clock, ['hang']);
    const s = sender(clock, post, { queue: 3 });
    for (const body of ['a', 'b', 'c', 'd', 'e']) s.enqueue(request(body), body);
    await clock.advance(0);
    // "a" is being sent; of b, c, d, e waiting, the oldest made way.
    expect(s.pending).toBe(4);
    expect(s.dropped).toBe(1);
    await clock.advance(60_000);
    expect(calls.map((c) => c.body)).toEqual(['a', 'a', 'c', 'd', 'e']);
    expect(s.delivered).toBe(4);
  });

  it('signs each attempt at its own time', async () => {
    const clock = new FakeClock(1_700_000_000_000);
    const { calls, post } = scripted(clock, [{ status: 500, retryAfter: '60' }, ok]);
    sender(clock, post).enqueue(request('a', 'k3y-s3cret'), 'a');
    await clock.advance(60_000);
    expect(calls.map((c) => c.headers['x-ferry-timestamp'])).toEqual(['1700000000', '1700000060']);
    expect(calls[0]?.headers['x-ferry-signature-256']).not.toBe(calls[1]?.headers['x-ferry-signature-256']);
  });

  it('stops: the attempt under way aborted, nothing sent after', async () => {
    const clock = new FakeClock(0);
    const { calls, post } = scripted(clock, ['hang']);
    const s = sender(clock, post);
    s.enqueue(request('a'), 'a');
    s.enqueue(request('b'), 'b');
    await clock.advance(0);
    s.stop();
    s.enqueue(request('c'), 'c');
    await clock.advance(60_000);
    expect(calls.map((c) => c.body)).toEqual(['a']);
    expect(clock.pending).toBe(0);
  });
});
