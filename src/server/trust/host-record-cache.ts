import type { KvEvent, KvStore, KvWatch } from '../../store/kv/kv.js';
import { parseHostRecord, trustKeys, type HostRecord } from './trust-records.js';

/** A host's record as last known, with the store revision of that write (null: deleted). */
interface Kept {
  readonly record: HostRecord | null;
  readonly modRevision: number;
}

/**
 * The enrolled hosts' records in memory, for the agent API: it checks a credential on every
 * request of every agent (a thousand agents reporting every second would otherwise read the store
 * a thousand times a second). A watch of the store's hosts keeps them current: a record written
 * through any server sharing the store (a revocation) replaces the kept one as soon as the store
 * delivers the change, and a write of this server replaces it at once (`written`). Until the watch
 * runs, and from the moment it fails until it runs again, every call reads the store, and what was
 * kept before is forgotten. A kept record is never replaced by an older one (a read that began
 * before a change and ended after it).
 */
export class HostRecordCache {
  private readonly kept = new Map<string, Kept>();
  private state: 'idle' | 'starting' | 'following' | 'closed' = 'idle';
  private watch: KvWatch | null = null;
  /** Advances whenever the watch stops: a read begun before must not be kept. */
  private generation = 0;

  constructor(
    private readonly kv: Pick<KvStore, 'get' | 'revision' | 'watch'>,
    private readonly onWatchError: (error: Error) => void = () => undefined,
  ) {}

  /** The host's record (undefined: none), kept or read from the store; the watch starts on first use. */
  async get(hostId: string): Promise<HostRecord | undefined> {
    if (this.state === 'following') {
      const kept = this.kept.get(hostId);
      if (kept !== undefined) return kept.record ?? undefined;
    } else if (this.state === 'idle') {
      this.follow();
    }
    const generation = this.generation;
    const following = this.state === 'following';
    const entry = await this.kv.get(trustKeys.host(hostId));
    if (entry === undefined) return undefined;
    const record = parseHostRecord(entry);
    // Kept only when the watch ran before the read began: every later change reaches it.
    if (following && this.generation === generation) this.keep(hostId, record, entry.modRevision);
    return record;
  }

  /** A record this server just wrote, at `modRevision`: it holds from now on, before the watch tells. */
  written(record: HostRecord, modRevision: number): void {
    if (this.state === 'following') this.keep(record.id, record, modRevision);
  }

  /** Ends the watch and forgets every record. */
  close(): void {
    this.stopFollowing('closed');
  }

  private follow(): void {
    this.state = 'starting';
    const generation = this.generation;
    this.kv.revision().then(
      (revision) => {
        if (this.state !== 'starting' || this.generation !== generation) return;
        try {
          const watch = this.kv.watch(
            trustKeys.hosts,
            revision,
            (events) => this.changed(events),
            (error) => this.failed(error),
          );
          if (this.state !== 'starting' || this.generation !== generation) return watch.cancel();
          this.watch = watch;
          this.state = 'following';
        } catch (error) {
          this.failed(error as Error);
        }
      },
      // The store unreachable: the reads fail too, and say so; the next call tries again.
      () => this.failed(null),
    );
  }

  private changed(events: readonly KvEvent[]): void {
    for (const event of events) {
      const hostId = event.key.slice(trustKeys.hosts.length);
      if (event.type === 'delete') {
        this.keep(hostId, null, event.modRevision);
        continue;
      }
      try {
        this.keep(hostId, parseHostRecord({ key: event.key, value: event.value ?? '' }), event.modRevision);
      } catch (error) {
        // A record that cannot be read: nothing kept is trusted any more (every call reads the store).
        this.failed(error as Error);
        return;
      }
    }
  }

  private keep(hostId: string, record: HostRecord | null, modRevision: number): void {
    const kept = this.kept.get(hostId);
    if (kept !== undefined && kept.modRevision >= modRevision) return;
    this.kept.set(hostId, { record, modRevision });
  }

  /** The watch ended: forget everything, read the store on every call, and watch again on the next. */
  private failed(error: Error | null): void {
    if (this.state === 'closed') return;
    this.stopFollowing('idle');
    if (error !== null) this.onWatchError(error);
  }

  private stopFollowing(next: 'idle' | 'closed'): void {
    this.state = next;
    this.generation++;
    this.watch?.cancel();
    this.watch = null;
    this.kept.clear();
  }
}
