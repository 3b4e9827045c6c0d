import type { HostDesiredState } from '../../protocol/desired-state.js';

/** A desired state as the control plane writes it: the store gives it its host and revision. */
export type DesiredStateDraft = Omit<HostDesiredState, 'host' | 'revision'>;

/** A host's desired state as read, with the store revision it was read at. */
export interface DesiredRead {
  /** Null when the host has none (never published, or deleted). */
  readonly doc: HostDesiredState | null;
  /** The store's revision at the read: watch from here to miss nothing. */
  readonly revision: number;
}

/** One change of a host's desired state, at the revision that made it. */
export interface DesiredChange {
  /** The document after the change; null when it was deleted. */
  readonly doc: HostDesiredState | null;
  readonly revision: number;
}

export interface DesiredWatch {
  cancel(): void;
}

/**
 * Where the control plane keeps each host's desired state (the port; kv-desired-states.ts is the
 * store's implementation). A document's `revision` is the store revision of its last write, so
 * revisions only grow and an agent asks for "newer than N".
 */
export interface DesiredStates {
  get(host: string): Promise<DesiredRead>;
  /**
   * Writes the host's desired state; with `ifRevision` only when the document's revision is still
   * that (0: when it has none), as a compare-and-swap. Resolves with the document written, or null
   * when the compare failed and nothing was written.
   */
  put(
    host: string,
    draft: DesiredStateDraft,
    options?: { ifRevision?: number },
  ): Promise<HostDesiredState | null>;
  /**
   * Calls `listener` with every change of the host's desired state after `fromRevision`
   * (exclusive), in order. `onError` gets a failure that ends the watch (history compacted, a
   * document the store holds that is not valid); the watcher reads again and watches again.
   */
  watch(
    host: string,
    fromRevision: number,
    listener: (change: DesiredChange) => void,
    onError: (error: Error) => void,
  ): DesiredWatch;
}
