import { open, type FileHandle } from 'node:fs/promises';
import { StringDecoder } from 'node:string_decoder';

const CHUNK = 64 * 1024;
/**
 * The most one read takes from a file: a burst of output, or a very long line skipped past, costs
 * at most this much per read (the rest is there for the next one).
 */
const READ_MAX = 1024 * 1024;

/** Lines read from a log at a byte offset, and the offset the next read starts from. */
export interface LogRead {
  readonly lines: string[];
  /** The byte offset after the last line read: the next read starts there. */
  readonly end: number;
  /** More was there than this read took (`take` refused a line, or the read bound was reached). */
  readonly more: boolean;
}

export interface LogReadOptions {
  /** A longer line is cut to this many bytes and marked with `…`; the rest of it is skipped. */
  readonly maxLineBytes: number;
  /** Asked for each line in turn: false stops the read before it (its caller's reply is full). */
  readonly take: (line: string) => boolean;
}

/**
 * The whole lines of a log after byte `offset` (`ferry logs -f`, from a cursor). A file shorter
 * than the offset was truncated (copy-truncate rotation) and is read from its start. A last line
 * without its newline waits for it, unless it is already longer than `maxLineBytes` (then its cut
 * start is a line, and what follows it comes as lines of their own), or `flush` (its writer
 * stopped: it will not get one). Null when the file does not exist.
 */
export async function readLogAfter(
  file: string,
  offset: number,
  opts: LogReadOptions & { readonly flush?: boolean },
): Promise<LogRead | null> {
  const handle = await openIfThere(file);
  if (handle === null) return null;
  try {
    const { size } = await handle.stat();
    const from = size < offset ? 0 : offset;
    const until = Math.min(size, from + READ_MAX);
    const line = new LineBuffer(opts.maxLineBytes);
    const lines: string[] = [];
    let end = from;
    let position = from;
    while (position < until) {
      const length = Math.min(CHUNK, until - position);
      const chunk = Buffer.alloc(length);
      const { bytesRead } = await handle.read(chunk, 0, length, position);
      if (bytesRead === 0) break;
      let start = 0;
      for (
        let nl = chunk.indexOf(0x0a, start);
        nl !== -1 && nl < bytesRead;
        nl = chunk.indexOf(0x0a, start)
      ) {
        line.add(chunk.subarray(start, nl));
        const text = line.take();
        if (!opts.take(text)) return { lines, end, more: true };
        lines.push(text);
        end = position + nl + 1;
        start = nl + 1;
      }
      line.add(chunk.subarray(start, bytesRead));
      position += bytesRead;
    }
    // What is left is a line without its newline (yet).
    if (line.bytes > 0 && (line.bytes > opts.maxLineBytes || (opts.flush === true && position >= size))) {
      const text = line.take();
      if (!opts.take(text)) return { lines, end, more: true };
      lines.push(text);
      end = position;
    }
    return { lines, end, more: position < size };
  } finally {
    await handle.close();
  }
}

/**
 * The last `lines` whole lines of a log and the byte offset after them (where following it
 * starts): a last line without its newline is left for the next read, as readLogAfter does. Lines
 * are offered to `take` newest first; the first it refuses ends the read (the older ones are
 * dropped). Reads at most READ_MAX bytes back. Null when the file does not exist.
 */
export async function readLogTail(
  file: string,
  lines: number,
  opts: LogReadOptions,
): Promise<{ readonly lines: string[]; readonly end: number } | null> {
  const handle = await openIfThere(file);
  if (handle === null) return null;
  try {
    const { window, position } = await readBackwards(handle, lines, READ_MAX);
    const lastNewline = window.lastIndexOf(0x0a);
    // A trailing part without its newline waits, unless it is over the line bound already.
    const cutAt = window.length - (lastNewline + 1) > opts.maxLineBytes ? window.length : lastNewline + 1;
    const pieces = splitLines(window.subarray(0, cutAt));
    // The first piece is the end of a line that began before what was read.
    if (position > 0) pieces.shift();
    const kept: string[] = [];
    for (const piece of pieces.slice(-lines).reverse()) {
      const text = lineText(piece, opts.maxLineBytes);
      if (!opts.take(text)) break;
      kept.unshift(text);
    }
    return { lines: kept, end: position + cutAt };
  } finally {
    await handle.close();
  }
}

/**
 * The end of a file, read backwards in chunks until it holds `lines` whole lines (one newline more
 * than that: the line before the first one kept must be complete) or `maxBytes`; and the offset
 * where what was read starts.
 */
export async function readBackwards(
  handle: FileHandle,
  lines: number,
  maxBytes = Infinity,
): Promise<{ readonly window: Buffer; readonly position: number }> {
  const { size } = await handle.stat();
  const chunks: Buffer[] = [];
  let position = size;
  let newlines = 0;
  while (position > 0 && newlines <= lines && size - position < maxBytes) {
    const length = Math.min(CHUNK, position);
    position -= length;
    const chunk = Buffer.alloc(length);
    await handle.read(chunk, 0, length, position);
    chunks.unshift(chunk);
    for (const byte of chunk) if (byte === 0x0a) newlines++;
  }
  return { window: Buffer.concat(chunks), position };
}

function splitLines(buffer: Buffer): Buffer[] {
  const pieces: Buffer[] = [];
  let start = 0;
  for (let nl = buffer.indexOf(0x0a); nl !== -1; nl = buffer.indexOf(0x0a, start)) {
    pieces.push(buffer.subarray(start, nl));
    start = nl + 1;
  }
  if (start < buffer.length) pieces.push(buffer.subarray(start));
  return pieces;
}

/** A line as text, cut to maxBytes (never inside a multi-byte character) and marked when cut. */
function lineText(bytes: Buffer, maxBytes: number): string {
  if (bytes.length <= maxBytes) return bytes.toString('utf8');
  // The decoder holds back a character split at the cut instead of making it U+FFFD.
  return `${new StringDecoder('utf8').write(bytes.subarray(0, maxBytes))}…`;
}

/** One line's bytes as they are read, keeping no more than its cut needs. */
class LineBuffer {
  private parts: Buffer[] = [];
  private kept = 0;
  /** How many bytes the line has so far (all of them, kept or not). */
  bytes = 0;

  constructor(private readonly maxBytes: number) {}

  add(part: Buffer): void {
    this.bytes += part.length;
    // One byte over the bound is enough to know the line is cut; copied, the chunk is reused.
    const room = this.maxBytes + 1 - this.kept;
    if (room <= 0 || part.length === 0) return;
    const kept = Buffer.from(part.subarray(0, room));
    this.parts.push(kept);
    this.kept += kept.length;
  }

  /** The line's text (cut when over the bound); the buffer starts a new line. */
  take(): string {
    const text = lineText(Buffer.concat(this.parts), this.maxBytes);
    this.parts = [];
    this.kept = 0;
    this.bytes = 0;
    return text;
  }
}

async function openIfThere(file: string): Promise<FileHandle | null> {
  try {
    return await open(file, 'r');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
}
