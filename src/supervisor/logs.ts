import { copyFile, open, rename, stat, truncate } from 'node:fs/promises';
import { FerryError } from '../errors/ferry-error.js';
import { readBackwards } from './log-cursor.js';

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
    const { window } = await readBackwards(handle, lines);
    // Decoded once: a chunk boundary may split a multi-byte character.
    const all = window.toString('utf8').split('\n');
    if (all.at(-1) === '') all.pop();
    return all.slice(-lines);
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
