import { spawn } from 'node:child_process';
import { FerryError } from '../errors/ferry-error.js';

export interface HookContext {
  readonly app: string;
  readonly env: string;
  readonly version: string;
  readonly releaseDir: string;
}

/**
 * Runs a hook's lines in order, each through `sh -c` in the release dir, with FERRY_* variables.
 * The first failing line stops the list (FERRY_E_HOOK_FAILED naming the line, its exit status and the
 * end of its output); each line has the hook's timeout, after which its process group is killed.
 */
export async function runHook(
  name: string,
  lines: readonly string[],
  ctx: HookContext,
  timeoutMs: number,
  signal?: AbortSignal,
): Promise<void> {
  for (const line of lines) await runLine(name, line, ctx, timeoutMs, signal);
}

function runLine(
  name: string,
  line: string,
  ctx: HookContext,
  timeoutMs: number,
  signal?: AbortSignal,
): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn('sh', ['-c', line], {
      cwd: ctx.releaseDir,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: {
        ...process.env,
        FERRY_APP: ctx.app,
        FERRY_ENV: ctx.env,
        FERRY_ENVIRONMENT: ctx.env,
        FERRY_VERSION: ctx.version,
        FERRY_RELEASE_DIR: ctx.releaseDir,
      },
    });
    let output = '';
    const keep = (chunk: Buffer) => {
      output = (output + chunk.toString('utf8')).slice(-2000);
    };
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    const kill = () => {
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        // already gone
      }
    };
    const timer = setTimeout(kill, timeoutMs);
    signal?.addEventListener('abort', kill, { once: true });
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(
        new FerryError(
          'FERRY_E_HOOK_FAILED',
          `${name} hook could not run "${line}": ${error.message}`,
          { hook: name, line },
          { cause: error },
        ),
      );
    });
    child.on('close', (code, sig) => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', kill);
      if (code === 0) return resolve();
      const status = sig
        ? `killed by ${sig}${sig === 'SIGKILL' ? ` (timeout ${timeoutMs}ms)` : ''}`
        : `exit status ${code}`;
      const tail = output.trim().split('\n').slice(-5).join('\n');
      reject(
        new FerryError(
          'FERRY_E_HOOK_FAILED',
          `${name} hook failed: ${line}: ${status}${tail ? `\n${tail}` : ''}`,
          { hook: name, line, exitCode: code },
        ),
      );
    });
  });
}
