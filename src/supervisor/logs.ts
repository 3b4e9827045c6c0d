import { copyFile, open, rename, stat, truncate } from 'node:fs/promises';
import { StringDecoder } from 'node:string_decoder';
import { setTimeout as sleep } from 'node:timers/promises';
import { FerryError } from '../errors/ferry-error.js';

const CHUNK = 64 * 1024;
/** followLog reads at most this much per poll, so a burst of output cannot balloon memory. */
const FOLLOW_READ_MAX = 1024 * 1024;

export interface RotationOptions {
  /** Rotate once the file is larger than this. */
  readonly maxBytes: number;
  /** How many rotated files to keep (file.1 is the newest); 0 only truncates. */
  readonly keep: number;
}

/**
 * Rotates a log copy-truncate style: file.N-1 -> file.N, ..., a copy of file -> file.1, then the
 * file is truncated in place. The instance keeps its descriptor, opened with O_APPEND, so its next
 * write lands at the new end and nothing has to be reopened or signalled. Lines written between
 * the copy and the truncation are lost; that is the price of never touching the process.
 */
export async function rotateLog(file: string, opts: RotationOptions): Promise<boolean> {
  const size = await stat(file).then(
    (s) => s.size,
    () => 0,
  );
  if (size <= opts.maxBytes) return false;
  for (let n = opts.keep - 1; n >= 1; n--) {
    await rename(`${file}.${n}`, `${file}.${n + 1}`).catch(ignoreMissing);
  }
  if (opts.keep >= 1) await copyFile(file, `${file}.1`);
  await truncate(file, 0);
  return true;
}

/** idle: created; running: checks on its interval; stopped: for good. */
export type LogRotatorLifecycle = 'idle' | 'running' | 'stopped';

/** Checks a changing set of log files on an interval and rotates those over the size. */
export class LogRotator {
  private lifecycle: LogRotatorLifecycle = 'idle';
  private timer: NodeJS.Timeout | null = null;
  private checking: Promise<void> | null = null;

  constructor(
    private readonly files: () => readonly string[],
    private readonly opts: RotationOptions & {
      readonly intervalMs: number;
      readonly onError?: (file: string, error: unknown) => void;
    },
  ) {}

  start(): void {
    if (this.lifecycle !== 'idle')
      throw new FerryError('FERRY_E_ILLEGAL_STATE', `the log rotator is ${this.lifecycle}; it cannot start`);
    this.lifecycle = 'running';
    this.timer = setInterval(() => void this.checkNow(), this.opts.intervalMs).unref();
  }

  /** Rotates every file over the size now; a check already under way is joined, never doubled. */
  checkNow(): Promise<void> {
    this.checking ??= this.checkAll().finally(() => (this.checking = null));
    return this.checking;
  }

  stop(): void {
    this.lifecycle = 'stopped';
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  private async checkAll(): Promise<void> {
    for (const file of this.files()) {
      await rotateLog(file, this.opts).catch((error: unknown) => this.opts.onError?.(file, error));
    }
  }
}

/** The last `lines` lines of a file (none if it does not exist), reading backwards from its end. */
export async function tailLog(file: string, lines: number): Promise<string[]> {
  if (lines <= 0) return [];
  const handle = await open(file, 'r').catch(ignoreMissing);
  if (!handle) return [];
  try {
    const { size } = await handle.stat();
    const chunks: Buffer[] = [];
    let position = size;
    let newlines = 0;
    // One newline more than lines: the line before the first one kept must be complete.
    while (position > 0 && newlines <= lines) {
      const length = Math.min(CHUNK, position);
      position -= length;
      const chunk = Buffer.alloc(length);
      await handle.read(chunk, 0, length, position);
      chunks.unshift(chunk);
      for (const byte of chunk) if (byte === 0x0a) newlines++;
    }
    // Decoded once: a chunk boundary may split a multi-byte character.
    const all = Buffer.concat(chunks).toString('utf8').split('\n');
    if (all.at(-1) === '') all.pop();
    return all.slice(-lines);
  } finally {
    await handle.close();
  }
}

/**
 * Calls `onLines` with the complete lines appended to the file from now on (or from its start),
 * until the signal aborts (`ferry logs -f`); never rejects. A file that shrank (copytruncate) or
 * was replaced (rename rotation) is read again from its start; a missing file is waited for. Once
 * `finish` aborts (its instance stopped), what was written up to then is read and it returns.
 */
export async function followLog(
  file: string,
  onLines: (lines: string[]) => void,
  signal: AbortSignal,
  opts: { pollMs?: number; from?: 'end' | 'start'; finish?: AbortSignal } = {},
): Promise<void> {
  const pollMs = opts.pollMs ?? 250;
  const wake = opts.finish ? AbortSignal.any([signal, opts.finish]) : signal;
  let current = await stat(file).catch(() => null);
  let position = opts.from === 'start' ? 0 : (current?.size ?? 0);
  let decoder = new StringDecoder('utf8');
  let partial = '';
  while (!signal.aborted) {
    // Read after the finish was seen: what the instance wrote before it stopped is all there.
    const last = opts.finish?.aborted === true;
    const next = await stat(file).catch(() => null);
    if (!next || next.size < position || (current && next.ino !== current.ino)) {
      position = 0;
      partial = '';
      decoder = new StringDecoder('utf8');
    }
    current = next;
    if (next && next.size > position) {
      const length = Math.min(next.size - position, FOLLOW_READ_MAX);
      // Gone between stat and read (rotation, removal): the next poll sees what happened.
      const chunk = await readAt(file, position, length).catch(() => null);
      if (chunk) {
        position += chunk.length;
        const parts = (partial + decoder.write(chunk)).split('\n');
        partial = parts.pop() ?? '';
        if (parts.length > 0) onLines(parts);
        if (chunk.length > 0 && position < next.size) continue;
      }
    }
    if (last) {
      if (partial !== '') onLines([partial]);
      return;
    }
    await sleep(pollMs, undefined, { signal: wake }).catch(() => undefined);
  }
}

async function readAt(file: string, position: number, length: number): Promise<Buffer> {
  const handle = await open(file, 'r');
  try {
    const buffer = Buffer.alloc(length);
    const { bytesRead } = await handle.read(buffer, 0, length, position);
    return buffer.subarray(0, bytesRead);
  } finally {
    await handle.close();
  }
}

function isMissing(error: unknown): boolean {
  return (error as NodeJS.ErrnoException).code === 'ENOENT';
}

/** For catch(): a missing file is nothing, any other error stays an error. */
function ignoreMissing(error: unknown): null {
  if (isMissing(error)) return null;
  throw error;
}
