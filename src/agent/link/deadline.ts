import type { Clock } from '../../lib/clock.js';

/**
 * Runs `work` with a signal that aborts when `parent` does, or after `ms` on `clock` with
 * `timedOut()` as the reason; a work that ends by either rejects with that reason. A request that
 * never answers (a link cut without a reset) so ends like any other failure.
 */
export async function withDeadline<T>(
  clock: Clock,
  ms: number,
  parent: AbortSignal,
  timedOut: () => Error,
  work: (signal: AbortSignal) => Promise<T>,
): Promise<T> {
  const controller = new AbortController();
  const onParent = (): void => controller.abort(parent.reason);
  if (parent.aborted) onParent();
  else parent.addEventListener('abort', onParent, { once: true });
  const timer = clock.setTimeout(() => controller.abort(timedOut()), ms);
  try {
    return await work(controller.signal);
  } catch (error) {
    if (controller.signal.aborted) throw asError(controller.signal.reason);
    throw error;
  } finally {
    clock.clearTimeout(timer);
    parent.removeEventListener('abort', onParent);
  }
}

function asError(reason: unknown): Error {
  return reason instanceof Error ? reason : new Error(String(reason));
}
