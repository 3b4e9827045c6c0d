import type { HostDesiredState } from '../../protocol/desired-state.js';
import type { DesiredChange, DesiredStates, DesiredWatch } from './desired-states.js';

interface Waiter {
  readonly after: number;
  resolve(doc: HostDesiredState): void;
  reject(error: Error): void;
}

/** What is known of one host's desired state while someone waits on it. */
interface Follow {
  readonly host: string;
  doc: HostDesiredState | null;
  /** The revision of the newest change seen: older ones (a watch's replay) are skipped. */
  known: number;
  readonly waiters: Set<Waiter>;
  watch: DesiredWatch | null;
  /** Whether a watch error was already answered by reading again (once; then the waiters fail). */
  reloaded: boolean;
}

/**
 * Long polls on desired states: a waiter gets the host's document as soon as its revision is newer
 * than the one it has. One read and one store watch per host, shared by its waiters, held only
 * while someone waits (an agent asks again at once, so a host that polls keeps it nearly always).
 */
export class DesiredWaits {
  private readonly follows = new Map<string, Follow>();

  constructor(private readonly store: DesiredStates) {}

  /**
   * Resolves with the host's desired state once its revision is newer than `after` (at once when it
   * already is); rejects with the signal's reason when it aborts first, or with the store's error.
   */
  next(host: string, after: number, signal: AbortSignal): Promise<HostDesiredState> {
    if (signal.aborted) return Promise.reject(asError(signal.reason));
    let follow = this.follows.get(host);
    if (follow === undefined) {
      follow = { host, doc: null, known: -1, waiters: new Set(), watch: null, reloaded: false };
      this.follows.set(host, follow);
      this.load(follow);
    }
    const followed = follow;
    return new Promise<HostDesiredState>((resolve, reject) => {
      const settle = (): void => {
        signal.removeEventListener('abort', onAbort);
        followed.waiters.delete(waiter);
        if (followed.waiters.size === 0) this.unfollow(followed);
      };
      const waiter: Waiter = {
        after,
        resolve: (doc) => {
          settle();
          resolve(doc);
        },
        reject: (error) => {
          settle();
          reject(error);
        },
      };
      const onAbort = (): void => waiter.reject(asError(signal.reason));
      signal.addEventListener('abort', onAbort, { once: true });
      followed.waiters.add(waiter);
      if (followed.watch !== null) this.wake(followed);
    });
  }

  /** Fails every wait with `error` and ends every watch. */
  close(error: Error): void {
    for (const follow of [...this.follows.values()]) this.fail(follow, error);
  }

  private load(follow: Follow): void {
    this.store.get(follow.host).then(
      (read) => {
        if (this.follows.get(follow.host) !== follow) return;
        follow.doc = read.doc;
        follow.known = Math.max(read.revision, read.doc?.revision ?? 0);
        follow.watch = this.store.watch(
          follow.host,
          read.revision,
          (change) => this.change(follow, change),
          (error) => this.watchFailed(follow, error),
        );
        this.wake(follow);
      },
      (error: unknown) => this.fail(follow, asError(error)),
    );
  }

  private change(follow: Follow, change: DesiredChange): void {
    if (change.revision <= follow.known) return;
    follow.known = change.revision;
    follow.doc = change.doc;
    follow.reloaded = false;
    this.wake(follow);
  }

  /** A watch that ended (compacted history): read again once; a second failure fails the waiters. */
  private watchFailed(follow: Follow, error: Error): void {
    follow.watch = null;
    if (this.follows.get(follow.host) !== follow) return;
    if (follow.reloaded) return this.fail(follow, error);
    follow.reloaded = true;
    this.load(follow);
  }

  private wake(follow: Follow): void {
    const doc = follow.doc;
    if (doc === null) return;
    for (const waiter of [...follow.waiters]) if (doc.revision > waiter.after) waiter.resolve(doc);
  }

  private fail(follow: Follow, error: Error): void {
    for (const waiter of [...follow.waiters]) waiter.reject(error);
    this.unfollow(follow);
  }

  private unfollow(follow: Follow): void {
    follow.watch?.cancel();
    follow.watch = null;
    if (this.follows.get(follow.host) === follow) this.follows.delete(follow.host);
  }
}

function asError(reason: unknown): Error {
  return reason instanceof Error ? reason : new Error(String(reason));
}
