import { describe, expect, it } from 'vitest';
import { Backend, EJECT_COOLDOWN_MS } from './backend.js';

const spec = { id: 'i-1', release: 'v1', host: '127.0.0.1', port: 1, weight: 1, healthy: true };

describe('Backend passive health', () => {
  it('ejects on a connection failure for the cooldown, and counts it', () => {
    const ejections: string[] = [];
    const backend = new Backend(spec, { ejected: (_b, reason) => ejections.push(reason) });
    backend.recordFailure('connect', 5000);
    backend.recordFailure('connect', 5001);
    expect(ejections).toEqual(['connect failure']);
    expect(backend.stats(5000)).toMatchObject({ errors: 2, ejectedUntil: 5001 + EJECT_COOLDOWN_MS });
    expect(backend.stats(5001 + EJECT_COOLDOWN_MS).ejectedUntil).toBeNull();
  });

  it('ejects when at least half of 20+ responses in 10s are 5xx, and still counts every 5xx', () => {
    const backend = new Backend(spec);
    const now = 100_000;
    for (let i = 0; i < 10; i++) backend.recordResponse(200, now + i * 100);
    for (let i = 0; i < 9; i++) backend.recordResponse(503, now + 1000 + i * 100);
    expect(backend.stats(now + 2000).ejectedUntil).toBeNull();
    backend.recordResponse(500, now + 2000);
    expect(backend.stats(now + 2000)).toMatchObject({
      ejectedUntil: now + 2000 + EJECT_COOLDOWN_MS,
      responses: { '2xx': 10, '5xx': 10 },
      errors: 0,
    });
  });

  it('forgets 5xx older than the 10s window', () => {
    const backend = new Backend(spec);
    for (let i = 0; i < 15; i++) backend.recordResponse(500, 0);
    for (let i = 0; i < 15; i++) backend.recordResponse(500, 11_000);
    expect(backend.stats(11_000).ejectedUntil).toBeNull();
  });

  it('reports drained once the last request of a removed backend ends', () => {
    const drained: string[] = [];
    const backend = new Backend(spec, { drained: (b) => drained.push(b.id) });
    backend.begin();
    backend.retired = true;
    backend.settle();
    expect(drained).toEqual([]);
    backend.finish();
    expect(drained).toEqual(['i-1']);
    expect(backend.stats(0)).toMatchObject({ inFlight: 0, requests: 1 });
  });
});
