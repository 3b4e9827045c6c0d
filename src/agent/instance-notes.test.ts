import { describe, expect, it } from 'vitest';
import { describeInstanceEvent } from './instance-notes.js';

describe('instance crashes as events of their app', () => {
  it('says how the process ended and when it comes back; a crash loop; a restart', () => {
    expect(
      describeInstanceEvent({ type: 'restarting', id: 'web-1.0.0-a', inMs: 500, restarts: 1 }, '1.0.0', {
        code: 3,
        signal: null,
      })?.message,
    ).toBe('instance web-1.0.0-a of 1.0.0 exited with code 3; restart 1 in 500ms');
    expect(
      describeInstanceEvent({ type: 'restarting', id: 'web-1.0.0-a', inMs: 30_000, restarts: 7 }, '1.0.0', {
        code: null,
        signal: null,
      })?.message,
    ).toBe('instance web-1.0.0-a of 1.0.0 exited with status unknown (adopted); restart 7 in 30.0s');
    expect(
      describeInstanceEvent({ type: 'crash-loop', id: 'web-1.0.0-a', restarts: 6 }, '1.0.0', null),
    ).toEqual({
      message:
        'instance web-1.0.0-a of 1.0.0 keeps crashing (6 restarts): crash loop, restarted with backoff',
      data: { instance: 'web-1.0.0-a', version: '1.0.0', restarts: 6 },
    });
    const started = { type: 'started', id: 'web-1.0.0-a', pid: 7, pidStart: 1 } as const;
    expect(describeInstanceEvent({ ...started, restarts: 0 }, '1.0.0', null)).toBeNull();
    expect(describeInstanceEvent({ ...started, restarts: 2 }, '1.0.0', null)?.message).toBe(
      'instance web-1.0.0-a of 1.0.0 restarted (pid 7, restart 2)',
    );
    expect(
      describeInstanceEvent(
        { type: 'stopped', id: 'web-1.0.0-a', reason: 'retired', killed: false },
        '1.0.0',
        null,
      ),
    ).toBeNull();
  });
});
