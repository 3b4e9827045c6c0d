import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import { FerryError, messageOf } from '../errors/ferry-error.js';

const GZIP_MAGIC = [0x1f, 0x8b] as const;
// zlib's default of 16 KiB costs a thread-pool round trip, a trip down the pipeline and a file
// write for every 16 KiB unpacked: bigger chunks nearly halve the time a large release takes to
// unpack (bench/install.mjs).
const GUNZIP_CHUNK_BYTES = 1024 * 1024;

/**
 * Passes a tar stream through, or gunzips it when it starts with the gzip magic bytes: the content
 * decides, never the file name.
 */
export async function* decompressIfGzip(
  chunks: AsyncIterable<Buffer>,
  label: string,
): AsyncGenerator<Buffer> {
  const iterator = chunks[Symbol.asyncIterator]();
  const head: Buffer[] = [];
  let headLength = 0;
  while (headLength < GZIP_MAGIC.length) {
    const next = await iterator.next();
    if (next.done === true) break;
    head.push(next.value);
    headLength += next.value.length;
  }
  const all = replay(head, iterator);
  const first = Buffer.concat(head);
  if (first[0] !== GZIP_MAGIC[0] || first[1] !== GZIP_MAGIC[1]) {
    yield* all;
    return;
  }
  const gunzip = createGunzip({ chunkSize: GUNZIP_CHUNK_BYTES });
  // Source errors reach us through gunzip's readable side (pipeline destroys it with them).
  pipeline(all, gunzip).catch(() => undefined);
  try {
    for await (const chunk of gunzip as AsyncIterable<Buffer>) yield chunk;
  } catch (error) {
    if (isZlibError(error)) {
      throw new FerryError(
        'FERRY_E_ARTIFACT_FORMAT',
        `artifact ${label}: expected a valid gzip stream, got ${messageOf(error)}`,
        {
          where: label,
          expected: 'gzip',
          got: messageOf(error),
        },
        { cause: error },
      );
    }
    throw error;
  } finally {
    gunzip.destroy();
  }
}

async function* replay(head: Buffer[], rest: AsyncIterator<Buffer>): AsyncGenerator<Buffer> {
  yield* head;
  try {
    for (let next = await rest.next(); next.done !== true; next = await rest.next()) yield next.value;
  } finally {
    await rest.return?.();
  }
}

function isZlibError(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && code.startsWith('Z_');
}
