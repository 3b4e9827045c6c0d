import { setTimeout as sleep } from 'node:timers/promises';
import { isRetryable, openSource, type FetchedBody, type FetchRequest } from './sources/index.js';

export interface ResumeBudget {
  /** How many times one attempt may re-open the source mid-stream. */
  max: number;
  waitMs: number;
}

/**
 * Opens the artifact; when the source says it can resume, a transient failure mid-stream re-opens
 * it at the bytes already delivered, so the same hash and extraction simply carry on. A failed
 * re-open (no 206, another range) is retryable and makes the caller restart from scratch.
 */
export async function openResumable(request: FetchRequest, budget: ResumeBudget): Promise<FetchedBody> {
  const first = await openSource(request);
  return { ...first, chunks: resuming(request, first, budget) };
}

async function* resuming(
  request: FetchRequest,
  first: FetchedBody,
  budget: ResumeBudget,
): AsyncGenerator<Buffer> {
  let body = first;
  let offset = 0;
  let left = budget.max;
  for (;;) {
    try {
      for await (const chunk of body.chunks) {
        offset += chunk.length;
        yield chunk;
      }
      return;
    } catch (error) {
      // Nothing delivered yet means nothing to save: a plain retry of the attempt is as good.
      const canResume = body.resumable === true && offset > 0 && left > 0 && isRetryable(error);
      if (!canResume || request.signal.aborted) throw error;
      left--;
      await sleep(budget.waitMs, undefined, { signal: request.signal });
      body = await openSource({ ...request, offset });
    }
  }
}
