import type { Clock } from '../lib/clock.js';

/**
 * The delivery ids seen lately, per source, so a replayed delivery is refused. Kept in memory,
 * bounded: an id is remembered for `retainMs` (longer than the timestamp window, so a signed
 * generic delivery cannot come back once forgotten) and the oldest go first past `maxEntries`.
 * A restart forgets them; generic deliveries stay protected by their timestamp window.
 */
export class DeliveryLog {
  // A Map keeps insertion order: the first entries are the oldest.
  private readonly seen = new Map<string, number>();

  constructor(
    private readonly opts: { readonly clock: Clock; readonly retainMs: number; readonly maxEntries: number },
  ) {}

  /** Records the delivery; false when it was seen within the retention (a replay). */
  record(source: string, delivery: string): boolean {
    const now = this.opts.clock.now();
    for (const [key, at] of this.seen) {
      if (now - at < this.opts.retainMs && this.seen.size < this.opts.maxEntries) break;
      this.seen.delete(key);
    }
    const key = `${source}\u0000${delivery}`;
    if (this.seen.has(key)) return false;
    this.seen.set(key, now);
    return true;
  }

  /** Forgets a delivery that was refused before it changed anything, so its sender may retry it. */
  forget(source: string, delivery: string): void {
    this.seen.delete(`${source}\u0000${delivery}`);
  }
}
