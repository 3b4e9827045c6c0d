import { open, type FileHandle } from 'node:fs/promises';
import { addAbortSignal } from 'node:stream';
import { fileURLToPath } from 'node:url';
import type { FetchedBody, FetchRequest } from './source.js';
import { sourceError } from './source.js';

/** Streams a local file:///abs/path artifact. */
export async function openFile(request: FetchRequest): Promise<FetchedBody> {
  const { handle, size } = await openFileHandle(request);
  const stream = addAbortSignal(request.signal, handle.createReadStream({ highWaterMark: 1024 * 1024 }));
  return { chunks: stream as AsyncIterable<Buffer>, total: size };
}

/** Opens a local file:///abs/path artifact for reading; it must be a regular file. */
export async function openFileHandle(request: FetchRequest): Promise<{ handle: FileHandle; size: number }> {
  let path: string;
  try {
    path = fileURLToPath(request.url);
  } catch (error) {
    throw sourceError(
      `artifact URL ${request.label}: expected file:///absolute/path, got a host or a relative path`,
      { where: request.label, retryable: false },
      error,
    );
  }
  let handle;
  try {
    handle = await open(path, 'r');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const missing = code === 'ENOENT' || code === 'ENOTDIR';
    const why = missing ? 'does not exist' : `cannot be opened (${code ?? String(error)})`;
    // Neither a missing file nor a denied one changes by asking again a second later.
    throw sourceError(
      `artifact file ${path} ${why}`,
      { where: request.label, path, retryable: false, missing },
      error,
    );
  }
  const stats = await handle.stat();
  if (!stats.isFile()) {
    await handle.close();
    throw sourceError(`artifact file ${path}: expected a regular file, got something else`, {
      where: request.label,
      path,
      retryable: false,
    });
  }
  return { handle, size: stats.size };
}
