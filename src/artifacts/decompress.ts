import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import { FerryError, messageOf } from '../errors/ferry-error.js';

const GZIP_MAGIC = [0x1f, 0x8b] as const;
const ZSTD_MAGIC = [0x28, 0xb5, 0x2f, 0xfd] as const;
// zlib's default of 16 KiB costs a thread-pool round trip, a trip down the pipeline and a file
// write for every 16 KiB unpacked: bigger chunks nearly halve the time a large release takes to
// unpack (bench/install.mjs).
const GUNZIP_CHUNK_BYTES = 1024 * 1024;

/**
 * Passes a tar stream through, or decompresses it when it starts with the gzip or the zstd magic
 * bytes: the content decides, never the file name.
 */
export async function* decompressArchive(
  chunks: AsyncIterable<Buffer>,
  label: string,
): AsyncGenerator<Buffer> {
  const iterator = chunks[Symbol.asyncIterator]();
  const head: Buffer[] = [];
  let headLength = 0;
  while (headLength < ZSTD_MAGIC.length) {
    const next = await iterator.next();
    if (next.done === true) break;
    head.push(next.value);
    headLength += next.value.length;
  }
  const all = replay(head, iterator);
  const first = Buffer.concat(head);
  if (startsWith(first, ZSTD_MAGIC)) {
    yield* unzstd(all, label);
    return;
  }
  if (!startsWith(first, GZIP_MAGIC)) {
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

/**
 * zstd with fzstd (Node 20's zlib has no zstd): synchronous, so each input chunk's output is
 * collected and handed on before the next chunk is read.
 */
async function* unzstd(chunks: AsyncIterable<Buffer>, label: string): AsyncGenerator<Buffer> {
  // Loaded on first use: most hosts never see a zstd artifact, and the daemon's memory counts.
  const { Decompress } = await import('fzstd');
  let out: Buffer[] = [];
  const decoder = new Decompress((data) => {
    out.push(Buffer.from(data)); // a copy: the decoder may reuse its window
  });
  const push = (chunk: Uint8Array, final: boolean): Buffer[] => {
    try {
      decoder.push(chunk, final);
    } catch (error) {
      throw new FerryError(
        'FERRY_E_ARTIFACT_FORMAT',
        `artifact ${label}: expected a valid zstd stream, got ${messageOf(error)}`,
        { where: label, expected: 'zstd', got: messageOf(error) },
        { cause: error },
      );
    }
    const ready = out;
    out = [];
    return ready;
  };
  for await (const chunk of chunks) yield* push(chunk, false);
  yield* push(new Uint8Array(0), true);
}

function startsWith(data: Buffer, magic: readonly number[]): boolean {
  return magic.every((byte, i) => data[i] === byte);
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
