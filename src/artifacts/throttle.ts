import { sleep, systemClock, type Clock } from '../lib/clock.js';

/**
 * Paces chunks to at most bytesPerSecond on average since the start. Big chunks are cut into
 * slices of a tenth of a second's worth so the pace stays smooth; while we wait, the transport's
 * own backpressure slows the sender down.
 */
export async function* throttle(
  chunks: AsyncIterable<Buffer>,
  bytesPerSecond: number,
  signal: AbortSignal,
  clock: Clock = systemClock,
): AsyncGenerator<Buffer> {
  const slice = Math.max(1, Math.floor(bytesPerSecond / 10));
  const startedAt = clock.now();
  let passed = 0;
  for await (const chunk of chunks) {
    for (let start = 0; start < chunk.length; start += slice) {
      const part = chunk.subarray(start, start + slice);
      passed += part.length;
      const wait = startedAt + (passed / bytesPerSecond) * 1000 - clock.now();
      if (wait > 0) await sleep(clock, wait, signal);
      yield part;
    }
  }
}

/** Waits a random time in [0, maxMs) so that many hosts do not all hit the source at once. */
export async function randomDelay(
  maxMs: number,
  signal: AbortSignal,
  clock: Clock = systemClock,
): Promise<void> {
  if (maxMs <= 0) return;
  await sleep(clock, Math.floor(Math.random() * maxMs), signal);
}
