import type { Storage } from '@google-cloud/storage';
import { addAbortSignal, type Readable } from 'node:stream';
import { messageOf } from '../../errors/ferry-error.js';
import { guardChunks, objectLocation } from './object-store.js';
import type { FetchedBody, FetchRequest } from './source.js';
import { sourceError } from './source.js';

let storage: Storage | undefined;
let stallTimeoutMs = 60_000;

/**
 * Streams gs://bucket/object with @google-cloud/storage. Credentials come from Application Default
 * Credentials; STORAGE_EMULATOR_HOST points the client at a local endpoint (then without auth).
 */
export async function openGcs(fetch: FetchRequest): Promise<FetchedBody> {
  const { bucket, key } = objectLocation(fetch, 'gs');
  const offset = fetch.offset ?? 0;
  let size: number | null;
  let stream: Readable;
  try {
    const file = (await gcsClient()).bucket(bucket).file(key);
    // The metadata call gives the size and turns a missing object into a clear 404 up front.
    const [metadata] = await file.getMetadata();
    const parsed = Number(metadata.size);
    size = Number.isSafeInteger(parsed) && parsed >= 0 ? parsed : null;
    // Ferry verifies the artifact's own checksum; the client's hash check cannot work on a
    // resumed (partial) download, so it is off.
    stream = file.createReadStream({ validation: false, ...(offset > 0 ? { start: offset } : {}) });
  } catch (error) {
    if (fetch.signal.aborted) throw error;
    throw gcsError(fetch, error);
  }
  addAbortSignal(fetch.signal, stream);
  const expected = size === null ? null : size - offset;
  return {
    chunks: guardChunks(failOnStall(stream, stallTimeoutMs), fetch, expected),
    total: size,
    resumable: true,
  };
}

async function gcsClient(): Promise<Storage> {
  if (storage !== undefined) return storage;
  // Loaded on first use: the client is large and most hosts never fetch from GCS.
  const { Storage } = await import('@google-cloud/storage');
  // Ferry's own retry policy (and its deadline) governs; the client must not retry underneath.
  storage = new Storage({ retryOptions: { autoRetry: false } });
  return storage;
}

/** Test hook: the next fetch builds a client from the then-current environment. */
export function resetGcsClient(): void {
  storage = undefined;
}

/** Test hook: how long to wait for the next chunk before calling the connection stalled. */
export function setGcsStallTimeout(ms: number): void {
  stallTimeoutMs = ms;
}

/**
 * The client never ends nor fails its stream when a connection with a Content-Length is cut
 * mid-body (its HTTP layer does not forward the socket's error), so a download would hang until
 * the install's deadline. Waiting too long for the next chunk therefore counts as a (retryable,
 * resumable) failure. Only the time spent waiting on the source counts, not our own backpressure.
 */
async function* failOnStall(stream: Readable, ms: number): AsyncGenerator<Buffer> {
  const iterator = (stream as AsyncIterable<Buffer>)[Symbol.asyncIterator]();
  try {
    for (;;) {
      const timer = setTimeout(
        () => stream.destroy(new Error(`no data for ${ms}ms (connection stalled)`)),
        ms,
      );
      let next: IteratorResult<Buffer>;
      try {
        next = await iterator.next();
      } finally {
        clearTimeout(timer);
      }
      if (next.done === true) return;
      yield next.value;
    }
  } finally {
    await iterator.return?.();
  }
}

function gcsError(fetch: FetchRequest, error: unknown): Error {
  const code = (error as { code?: unknown }).code;
  const status = typeof code === 'number' ? code : undefined;
  if (status === 404) {
    return sourceError(
      `GET ${fetch.label}: expected an object, got 404 (no such object or bucket)`,
      { where: fetch.label, status, retryable: false, missing: true },
      error,
    );
  }
  if (status === 401 || status === 403) {
    return sourceError(
      `GET ${fetch.label}: expected access to the object, got ${status}; check the credentials and the bucket's IAM`,
      { where: fetch.label, status, retryable: false },
      error,
    );
  }
  // No HTTP status: a network failure, unless the client could not find credentials at all.
  const retryable =
    status === undefined
      ? !/credentials/i.test(messageOf(error))
      : status >= 500 || status === 408 || status === 429;
  return sourceError(
    `GET ${fetch.label}: ${status === undefined ? messageOf(error) : `HTTP ${status}: ${messageOf(error)}`}`,
    { where: fetch.label, status, retryable },
    error,
  );
}
