import { describe, expect, it } from 'vitest';
import { MAX_REPORTED_EVENTS } from '../protocol/report.js';
import { HostEventJournal } from './host-events.js';

const health = (instance: string, detail: string | null = null) =>
  ({
    kind: 'health',
    app: 'web',
    env: 'production',
    instance,
    version: '1.0.0',
    health: 'unhealthy',
    detail,
  }) as const;

describe('HostEventJournal: the events a host reports until the server took them', () => {
  it('keeps each event until a report carrying it was taken, and only the app hosts’ kinds', () => {
    let told = 0;
    const journal = new HostEventJournal(
      () => 1_000,
      () => told++,
    );
    journal.publish(health('a'));
    journal.publish({ kind: 'router', app: null, env: null, change: 'recovered', pid: 1, message: 'ok' });
    journal.publish(health('b'));
    expect(told).toBe(2);
    const first = journal.pending();
    expect(first.items.map((e) => [e.seq, e.kind === 'health' && e.instance])).toEqual([
      [1, 'a'],
      [2, 'b'],
    ]);
    // A report that failed is not acknowledged: the next carries them again, and what came since.
    journal.publish(health('c'));
    const second = journal.pending();
    expect(second.items.map((e) => e.seq)).toEqual([1, 2, 3]);
    journal.acknowledge(first);
    expect(journal.pending().items.map((e) => e.seq)).toEqual([3]);
    journal.acknowledge(second);
    expect(journal.pending().items).toEqual([]);
    // Another journal's acknowledgement (an earlier run's report) changes nothing.
    journal.publish(health('d'));
    journal.acknowledge({ journal: 'other', dropped: 0, items: [{ ...second.items[0]!, seq: 99 }] });
    expect(journal.pending().items).toHaveLength(1);
  });

  it('is bounded: the oldest go and are counted until a report said so; long texts are cut', () => {
    const journal = new HostEventJournal(() => 0);
    for (let n = 0; n < MAX_REPORTED_EVENTS + 5; n++) journal.publish(health(`i${n}`, 'x'.repeat(2_000)));
    const pending = journal.pending();
    expect(pending.items).toHaveLength(MAX_REPORTED_EVENTS);
    expect(pending.dropped).toBe(5);
    expect(pending.items[0]!.seq).toBe(6);
    const first = pending.items[0]!;
    expect(first.kind === 'health' && first.detail!.length).toBe(500);
    journal.acknowledge(pending);
    expect(journal.pending()).toMatchObject({ dropped: 0, items: [] });
  });
});
