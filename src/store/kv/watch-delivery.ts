import type { KvEvent, KvListener } from './kv.js';

/**
 * One watch's side facing its caller, the same in every driver: calls the listener until the watch
 * ends (cancel, an error, or a listener that throws), and reports how it ended.
 */
export class WatchDelivery {
  #state: 'watching' | 'ended' = 'watching';
  readonly #listener: KvListener;
  readonly #onError: ((error: Error) => void) | undefined;

  constructor(listener: KvListener, onError: ((error: Error) => void) | undefined) {
    this.#listener = listener;
    this.#onError = onError;
  }

  get watching(): boolean {
    return this.#state === 'watching';
  }

  /** Calls the listener; false once the watch has ended (before, or because the listener threw). */
  deliver(events: readonly KvEvent[], revision: number): boolean {
    if (this.#state !== 'watching') return false;
    try {
      this.#listener(events, revision);
    } catch (error) {
      this.fail(error instanceof Error ? error : new Error(String(error)));
    }
    return this.#state === 'watching';
  }

  /**
   * Ends the watch with `error`, given to onError. Without onError the error is thrown on its own
   * (uncaught): a watch that stops silently would be worse than a crash.
   */
  fail(error: Error): void {
    if (this.#state !== 'watching') return;
    this.#state = 'ended';
    const onError = this.#onError;
    if (onError !== undefined) onError(error);
    else
      setImmediate(() => {
        throw error;
      });
  }

  /** Ends the watch silently; no listener call follows. */
  cancel(): void {
    this.#state = 'ended';
  }
}
