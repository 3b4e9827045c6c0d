import type { S3Client } from '@aws-sdk/client-s3';
import { addAbortSignal, type Readable } from 'node:stream';
import { messageOf } from '../../errors/ferry-error.js';
import { guardChunks, objectLocation } from './object-store.js';
import type { FetchedBody, FetchRequest } from './source.js';
import { sourceError } from './source.js';

let client: S3Client | undefined;

/**
 * Streams s3://bucket/key with AWS SDK v3. Region and credentials come from the SDK's default
 * chains (env, profile, instance role); AWS_ENDPOINT_URL(_S3) points it at an S3-compatible store.
 */
export async function openS3(fetch: FetchRequest): Promise<FetchedBody> {
  const { bucket, key } = objectLocation(fetch, 's3');
  const offset = fetch.offset ?? 0;
  let response;
  try {
    // Loaded on first use: the SDK is large and most hosts never fetch from S3.
    const { GetObjectCommand } = await import('@aws-sdk/client-s3');
    const command = new GetObjectCommand({
      Bucket: bucket,
      Key: key,
      ...(offset > 0 ? { Range: `bytes=${offset}-` } : {}),
    });
    response = await (await s3Client()).send(command, { abortSignal: fetch.signal });
  } catch (error) {
    if (fetch.signal.aborted) throw error;
    throw s3Error(fetch, error);
  }
  if (offset > 0 && !(response.ContentRange ?? '').startsWith(`bytes ${offset}-`)) {
    throw sourceError(
      `GET ${fetch.label}: resuming at byte ${offset}: expected a range from there, got ${response.ContentRange ?? 'none'}`,
      {
        where: fetch.label,
        retryable: true,
      },
    );
  }
  const body = response.Body as AsyncIterable<Uint8Array> | undefined;
  if (body === undefined) {
    throw sourceError(`GET ${fetch.label}: expected a body, got none`, {
      where: fetch.label,
      retryable: true,
    });
  }
  // Aborting must stop the transfer even once the SDK has handed the stream over.
  if (typeof (body as Partial<Readable>).destroy === 'function')
    addAbortSignal(fetch.signal, body as Readable);
  const length = response.ContentLength ?? null;
  const total = offset > 0 ? totalOf(response.ContentRange) : length;
  return { chunks: guardChunks(body, fetch, length), total, resumable: true };
}

async function s3Client(): Promise<S3Client> {
  if (client !== undefined) return client;
  const { S3Client } = await import('@aws-sdk/client-s3');
  const endpointSet = Boolean(process.env.AWS_ENDPOINT_URL_S3 ?? process.env.AWS_ENDPOINT_URL);
  client = new S3Client({
    // Path-style (host/bucket/key) is what most S3-compatible stores at a custom endpoint expect.
    forcePathStyle: process.env.FERRY_S3_FORCE_PATH_STYLE === '1' || endpointSet,
    // Ferry's own retry policy (and its deadline) governs; the SDK must not retry underneath.
    maxAttempts: 1,
  });
  return client;
}

/** Test hook: the next fetch builds a client from the then-current environment. */
export function resetS3Client(): void {
  client?.destroy();
  client = undefined;
}

function s3Error(fetch: FetchRequest, error: unknown): Error {
  const e = error as { name?: string; $metadata?: { httpStatusCode?: number } };
  const status = e.$metadata?.httpStatusCode;
  const name = e.name ?? 'Error';
  if (name === 'NoSuchKey' || name === 'NoSuchBucket' || status === 404) {
    return sourceError(
      `GET ${fetch.label}: expected an object, got ${name} (404)`,
      {
        where: fetch.label,
        status: 404,
        retryable: false,
        missing: name !== 'NoSuchBucket',
      },
      error,
    );
  }
  if (status === 403 || status === 401 || name === 'AccessDenied') {
    return sourceError(
      `GET ${fetch.label}: expected access to the object, got ${name} (${status ?? 403}); check the credentials and the bucket policy`,
      {
        where: fetch.label,
        status: status ?? 403,
        retryable: false,
      },
      error,
    );
  }
  // No status: a network failure. 5xx, 408 and 429 are transient too; other 4xx and config errors are not.
  const retryable =
    status === undefined ? !isConfigError(error) : status >= 500 || status === 408 || status === 429;
  const got = status === undefined ? messageOf(error) : `${name} (${status})`;
  return sourceError(`GET ${fetch.label}: ${got}`, { where: fetch.label, status, retryable }, error);
}

/** The SDK's own complaints (no region, no credentials) will not go away by asking again. */
function isConfigError(error: unknown): boolean {
  const message = messageOf(error);
  return /region is missing|could not load credentials|credential/i.test(message);
}

function totalOf(contentRange: string | undefined): number | null {
  const match = /\/(\d+)$/.exec(contentRange ?? '');
  return match?.[1] === undefined ? null : Number(match[1]);
}
