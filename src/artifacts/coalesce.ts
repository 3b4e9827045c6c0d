/**
 * Joins chunks into ones of at least minBytes (the last one may be smaller). Each chunk costs a
 * hash update, a gunzip call on the thread pool and a trip down the pipeline; a socket yields
 * 64 KiB at a time, so one copy into bigger chunks saves most of those.
 */
export async function* coalesce(chunks: AsyncIterable<Buffer>, minBytes: number): AsyncGenerator<Buffer> {
  let parts: Buffer[] = [];
  let length = 0;
  for await (const chunk of chunks) {
    parts.push(chunk);
    length += chunk.length;
    if (length < minBytes) continue;
    yield joined(parts, length);
    parts = [];
    length = 0;
  }
  if (length > 0) yield joined(parts, length);
}

function joined(parts: Buffer[], length: number): Buffer {
  return parts.length === 1 && parts[0] !== undefined ? parts[0] : Buffer.concat(parts, length);
}
