/** Ctrl-C while a command follows something, as a signal (a second Ctrl-C ends the process as usual). */
export interface Interrupt {
  readonly signal: AbortSignal;
  dispose(): void;
}

/** The exit code of a command stopped by Ctrl-C (128 + SIGINT), as shells report it. */
export const INTERRUPTED_EXIT_CODE = 130;

/**
 * Turns the next Ctrl-C (SIGINT) into an abort of the returned signal, so a following command stops
 * its stream and says what it leaves behind instead of dying mid-line; dispose() lets it go.
 */
export function onInterrupt(): Interrupt {
  const abort = new AbortController();
  const handler = () => abort.abort(new Error('interrupted'));
  process.once('SIGINT', handler);
  return { signal: abort.signal, dispose: () => process.removeListener('SIGINT', handler) };
}
