import { spawn } from 'node:child_process';
import { FerryError } from '../errors/ferry-error.js';
import { formatDuration } from '../lib/duration.js';
import { redactText } from '../lib/redact.js';
import { accountSpawnOptions, type RunAccount } from '../supervisor/account.js';

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
  /**
   * The environment the lines start from. The daemon's hooks get a clean base (baseEnvironment) and
   * the app's run.env, never the daemon's own; `ferry install` passes its caller's (as stretcher does).
   */
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Added to the environment of every line, e.g. from hookVariables(). */
  readonly vars?: Readonly<Record<string, string>>;
  /** Run the lines as this user and group (run.user). */
  readonly account?: RunAccount | null;
  /** Values hidden from the output an error quotes (the API token, header values, secret env values). */
  readonly secrets?: readonly string[];
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
/** The output a failure quotes as evidence: its last lines, each cut, within a total (bytes). */
const KEPT_LINES = 10;
const KEPT_LINE_CHARS = 300;
const KEPT_BYTES = 2000;
/** A line longer than this is cut as it arrives, so that a hook printing without newlines costs nothing. */
const MAX_LINE_CHARS = 64 * 1024;

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
 * timeout), with the end of its output (bounded, known secrets and URL credentials hidden). A line
 * that does not read its stdin is fine.
 */
export async function runHook(run: HookRun): Promise<void> {
  for (const line of run.lines) await runLine(line, run);
}

async function runLine(line: string, run: HookRun): Promise<void> {
  run.signal?.throwIfAborted();
  const child = spawn('sh', ['-c', line], {
    cwd: run.cwd,
    env: { ...run.env, ...run.vars },
    ...accountSpawnOptions(run.account),
    stdio: [run.stdin === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
    detached: true, // its own process group, so a timeout or cancel stops what it started too
  });
  const kept: string[] = [];
  const onLine =
    run.onOutput ??
    ((text: string, length: number) => {
      // Hidden before it is cut: a cut could leave half a secret that no longer matches.
      const redacted = redactText(text, run.secrets);
      kept.push(cutLine(redacted, length + redacted.length - text.length));
      if (kept.length > KEPT_LINES) kept.shift();
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
            redactText(`${run.hook} hook could not run "${line}": ${error.message}`, run.secrets),
            { hook: run.hook, line: redactText(line, run.secrets) },
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
    const tail = evidence(kept);
    throw new FerryError(
      'FERRY_E_HOOK_FAILED',
      redactText(`${run.hook} hook failed: ${line}: ${why}${tail ? `\n${tail}` : ''}`, run.secrets),
      { hook: run.hook, line: redactText(line, run.secrets), exitCode: code },
    );
  } finally {
    if (timer) clearTimeout(timer);
    run.signal?.removeEventListener('abort', onAbort);
  }
}

/** The last lines of output, trimmed of blank edges, within KEPT_BYTES (the oldest lines go first). */
function evidence(lines: readonly string[]): string {
  const kept = [...lines];
  while (kept.length > 0 && kept[0]!.trim() === '') kept.shift();
  while (kept.length > 0 && kept[kept.length - 1]!.trim() === '') kept.pop();
  while (kept.length > 1 && Buffer.byteLength(kept.join('\n')) > KEPT_BYTES) kept.shift();
  return kept.join('\n');
}

/** The line's start, saying how much was left out (`length` is the whole line's, when it arrived cut). */
function cutLine(line: string, length = line.length, max = KEPT_LINE_CHARS): string {
  return length > max ? `${line.slice(0, max)}... (${length - max} more characters)` : line;
}

function signalGroup(pid: number | undefined, signal: NodeJS.Signals): void {
  if (pid === undefined) return;
  try {
    process.kill(-pid, signal);
  } catch {
    // already gone
  }
}

/**
 * Calls onLine for each line of the stream. A line longer than MAX_LINE_CHARS keeps only its start
 * (memory stays bounded whatever a command prints); onLine gets the line's full length too.
 */
function forwardLines(
  stream: NodeJS.ReadableStream | null,
  onLine: (line: string, length: number) => void,
): void {
  if (!stream) return;
  let rest = '';
  let restLength = 0;
  stream.setEncoding('utf8');
  stream.on('data', (chunk: string) => {
    const lines = chunk.split('\n');
    const last = lines.pop() ?? '';
    for (const line of lines) {
      onLine(rest + line.slice(0, MAX_LINE_CHARS - rest.length), restLength + line.length);
      rest = '';
      restLength = 0;
    }
    rest += last.slice(0, Math.max(0, MAX_LINE_CHARS - rest.length));
    restLength += last.length;
  });
  stream.on('end', () => {
    if (restLength > 0) onLine(rest, restLength);
  });
}
