import { messageOf } from '../../errors/ferry-error.js';
import type { FetchRequest } from './source.js';
import { sourceError } from './source.js';

/** bucket and key of s3://bucket/key or gs://bucket/object (the key may contain slashes). */
export function objectLocation(fetch: FetchRequest, scheme: string): { bucket: string; key: string } {
  const bucket = fetch.url.hostname;
  const key = decodeURIComponent(fetch.url.pathname.replace(/^\//, ''));
  if (bucket === '' || key === '') {
    throw sourceError(
      `artifact URL ${fetch.label}: expected ${scheme}://bucket/key, got no bucket or no key`,
      {
        where: fetch.label,
        retryable: false,
      },
    );
  }
  return { bucket, key };
}

/** Fresh Buffers out of an SDK body; transport failures mid-body become retryable source errors. */
export async function* guardChunks(
  body: AsyncIterable<Uint8Array | string>,
  fetch: FetchRequest,
  expected: number | null,
): AsyncGenerator<Buffer> {
  let received = 0;
  try {
    for await (const chunk of body) {
      const buffer = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk);
      received += buffer.length;
      yield buffer;
    }
  } catch (error) {
    if (fetch.signal.aborted) throw error;
    throw sourceError(
      `GET ${fetch.label}: connection failed after ${received} bytes: ${messageOf(error)}`,
      { where: fetch.label, retryable: true, received },
      error,
    );
  }
  if (expected !== null && received !== expected) {
    throw sourceError(
      `GET ${fetch.label}: expected ${expected} bytes, got ${received} before the body ended`,
      {
        where: fetch.label,
        retryable: true,
        received,
      },
    );
  }
}
