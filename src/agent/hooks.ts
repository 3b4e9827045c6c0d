import { spawn } from 'node:child_process';
import { FerryError } from '../errors/ferry-error.js';
import { formatDuration } from '../lib/duration.js';

/** Who a hook runs for; it reaches the hook's lines as FERRY_* variables. */
export interface HookContext {
  readonly app: string;
  readonly env: string;
  readonly version: string;
  readonly releaseDir: string;
}

/** One hook: its lines, where and how they run. */
export interface HookRun {
  /** The hook's name (before_start, pre, success...), used in errors. */
  readonly hook: string;
  readonly lines: readonly string[];
  readonly cwd?: string;
  /** Added to the environment of every line, e.g. from hookVariables(). */
  readonly vars?: Readonly<Record<string, string>>;
  /** Given to every line on stdin (success and failure hooks get the run's log). */
  readonly stdin?: string;
  /** Per line; 0 = none. */
  readonly timeoutMs: number;
  readonly signal?: AbortSignal;
  /** Receives each line the commands print; when unset, the end of the output goes into errors. */
  readonly onOutput?: (line: string) => void;
}

/** After SIGTERM (timeout or cancel), the line's process group has this long before SIGKILL. */
const KILL_GRACE_MS = 2000;
const KEPT_OUTPUT = 2000;

export function hookVariables(ctx: HookContext): Record<string, string> {
  return {
    FERRY_APP: ctx.app,
    FERRY_ENV: ctx.env,
    FERRY_ENVIRONMENT: ctx.env,
    FERRY_VERSION: ctx.version,
    FERRY_RELEASE_DIR: ctx.releaseDir,
  };
}

/**
 * Runs a hook's lines in order, each through `sh -c` in its own process group. The first failing line
 * stops the list with FERRY_E_HOOK_FAILED naming the hook, the line and why (exit status, signal,
 * timeout). A line that does not read its stdin is fine.
 */
export async function runHook(run: HookRun): Promise<void> {
  for (const line of run.lines) await runLine(line, run);
}

async function runLine(line: string, run: HookRun): Promise<void> {
  run.signal?.throwIfAborted();
  const child = spawn('sh', ['-c', line], {
    cwd: run.cwd,
    env: { ...process.env, ...run.vars },
    stdio: [run.stdin === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
    detached: true, // its own process group, so a timeout or cancel stops what it started too
  });
  let kept = '';
  const onLine =
    run.onOutput ??
    ((text: string) => {
      kept = `${kept}${text}\n`.slice(-KEPT_OUTPUT);
    });
  forwardLines(child.stdout, onLine);
  forwardLines(child.stderr, onLine);
  if (child.stdin) {
    child.stdin.on('error', () => undefined); // EPIPE from a line that does not read stdin
    child.stdin.end(run.stdin);
  }
  let reason: string | null = null;
  const stop = (why: string): void => {
    reason ??= why;
    signalGroup(child.pid, 'SIGTERM');
    setTimeout(() => signalGroup(child.pid, 'SIGKILL'), KILL_GRACE_MS).unref();
  };
  const timer =
    run.timeoutMs > 0
      ? setTimeout(() => stop(`timed out after ${formatDuration(run.timeoutMs)}`), run.timeoutMs)
      : null;
  const onAbort = (): void => stop('cancelled');
  run.signal?.addEventListener('abort', onAbort, { once: true });
  try {
    const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve, reject) => {
      child.once('error', (error) =>
        reject(
          new FerryError(
            'FERRY_E_HOOK_FAILED',
            `${run.hook} hook could not run "${line}": ${error.message}`,
            { hook: run.hook, line },
            { cause: error },
          ),
        ),
      );
      child.once('close', (c, s) => resolve([c, s]));
    });
    run.signal?.throwIfAborted();
    const why =
      reason ??
      (code === 0 ? null : code === null ? `killed by ${signal ?? 'a signal'}` : `exit status ${code}`);
    if (why === null) return;
    const tail = kept.trim().split('\n').slice(-5).join('\n');
    throw new FerryError(
      'FERRY_E_HOOK_FAILED',
      `${run.hook} hook failed: ${line}: ${why}${tail ? `\n${tail}` : ''}`,
      { hook: run.hook, line, exitCode: code },
    );
  } finally {
    if (timer) clearTimeout(timer);
    run.signal?.removeEventListener('abort', onAbort);
  }
}

function signalGroup(pid: number | undefined, signal: NodeJS.Signals): void {
  if (pid === undefined) return;
  try {
    process.kill(-pid, signal);
  } catch {
    // already gone
  }
}

function forwardLines(stream: NodeJS.ReadableStream | null, onLine: (line: string) => void): void {
  if (!stream) return;
  let rest = '';
  stream.setEncoding('utf8');
  stream.on('data', (chunk: string) => {
    const lines = (rest + chunk).split('\n');
    rest = lines.pop() ?? '';
    for (const line of lines) onLine(line);
  });
  stream.on('end', () => {
    if (rest !== '') onLine(rest);
  });
}
