import { historyCompacted } from '../errors.js';
import type { KvEvent, KvWatch } from '../kv.js';
import type { WatchDelivery } from '../watch-delivery.js';
import type { HistoryRow } from './statements.js';

/** What a watch reads from the store: its revision, where its history starts, and the history. */
export interface HistorySource {
  /** The store's revision and the first revision whose history it still has. */
  position(): { revision: number; compacted: number };
  /** The changes under the watch's prefix in revisions (after, upTo], in order. */
  history(after: number, upTo: number): HistoryRow[];
}

/** At most this many revisions are read per turn of the event loop, so a long replay shares it. */
const PAGE_REVISIONS = 1_000;

/**
 * A watch of the SQLite store. It reads everything from kv_history, the replay and the live
 * changes alike: the store only tells it that the revision moved (notify), and it catches up on a
 * later turn of the event loop, never inside the writer's transaction.
 */
export class SqliteWatch implements KvWatch {
  #delivered: number;
  #scheduled = false;
  readonly #source: HistorySource;
  readonly #delivery: WatchDelivery;
  readonly #onEnd: (watch: SqliteWatch) => void;

  constructor(
    source: HistorySource,
    fromRevision: number,
    delivery: WatchDelivery,
    onEnd: (watch: SqliteWatch) => void,
  ) {
    this.#source = source;
    this.#delivered = fromRevision;
    this.#delivery = delivery;
    this.#onEnd = onEnd;
    this.notify();
  }

  /** The store's revision may have moved: catch up soon. */
  notify(): void {
    if (this.#scheduled || !this.#delivery.watching) return;
    this.#scheduled = true;
    setImmediate(() => this.#catchUp());
  }

  cancel(): void {
    this.#delivery.cancel();
    this.#onEnd(this);
  }

  #catchUp(): void {
    this.#scheduled = false;
    if (!this.#delivery.watching) return;
    let upTo: number;
    let rows: HistoryRow[];
    let revision: number;
    try {
      const position = this.#source.position();
      revision = position.revision;
      if (this.#delivered >= revision) return;
      if (this.#delivered < position.compacted - 1) {
        this.#fail(historyCompacted(this.#delivered, position.compacted));
        return;
      }
      upTo = Math.min(revision, this.#delivered + PAGE_REVISIONS);
      rows = this.#source.history(this.#delivered, upTo);
    } catch (error) {
      this.#fail(error instanceof Error ? error : new Error(String(error)));
      return;
    }
    for (const [at, events] of byRevision(rows)) {
      if (!this.#delivery.deliver(events, at)) {
        this.#onEnd(this);
        return;
      }
    }
    this.#delivered = upTo;
    if (upTo < revision) this.notify();
  }

  #fail(error: Error): void {
    this.#delivery.fail(error);
    this.#onEnd(this);
  }
}

function byRevision(rows: readonly HistoryRow[]): Map<number, KvEvent[]> {
  const batches = new Map<number, KvEvent[]>();
  for (const row of rows) {
    const key = row.key.toString('utf8');
    const event: KvEvent =
      row.type === 'put'
        ? { type: 'put', key, value: row.value ?? '', modRevision: row.revision }
        : { type: 'delete', key, modRevision: row.revision, ...(row.expired === 1 ? { expired: true } : {}) };
    const batch = batches.get(row.revision);
    if (batch === undefined) batches.set(row.revision, [event]);
    else batch.push(event);
  }
  return batches;
}
