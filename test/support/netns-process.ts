import { spawn, type ChildProcess } from 'node:child_process';
import { ipPath } from './netns-ip.js';

/** How a process run in a host's namespace starts. */
export interface HostProcessOptions {
  /** Its whole environment (as node's spawn: not merged); process.env unless given. */
  readonly env?: NodeJS.ProcessEnv;
  readonly cwd?: string;
}

/** How a process ended: its exit code, or the signal that ended it. */
export interface ProcessExit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

/**
 * A process running in a host's network namespace. `ip netns exec` execs the command in its own
 * process, so `child.pid` is the command's pid and `child.kill()` signals the command itself.
 */
export interface HostProcess {
  readonly child: ChildProcess;
  readonly pid: number;
  /** What it printed so far (the last MAX_OUTPUT characters of each stream). */
  stdout(): string;
  stderr(): string;
  readonly exited: Promise<ProcessExit>;
}

/** What exec() ran printed, and how it ended. */
export interface ExecResult extends ProcessExit {
  readonly stdout: string;
  readonly stderr: string;
}

const MAX_OUTPUT = 1024 * 1024;

/**
 * Starts `command args` in network namespace `namespace` (`ip netns exec`, which also mounts that
 * namespace's /sys), stdin closed, stdout and stderr kept.
 */
export function spawnInNamespace(
  namespace: string,
  command: string,
  args: readonly string[],
  opts: HostProcessOptions,
): HostProcess {
  const child = spawn(ipPath(), ['netns', 'exec', namespace, command, ...args], {
    env: opts.env ?? process.env,
    cwd: opts.cwd,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  if (child.pid === undefined) throw new Error(`could not start ip netns exec ${namespace} ${command}`);
  let stdout = '';
  let stderr = '';
  child.stdout
    .setEncoding('utf8')
    .on('data', (chunk: string) => (stdout = (stdout + chunk).slice(-MAX_OUTPUT)));
  child.stderr
    .setEncoding('utf8')
    .on('data', (chunk: string) => (stderr = (stderr + chunk).slice(-MAX_OUTPUT)));
  const exited = new Promise<ProcessExit>((resolve) =>
    child.once('close', (code, signal) => resolve({ code, signal })),
  );
  return { child, pid: child.pid, stdout: () => stdout, stderr: () => stderr, exited };
}

/**
 * Runs `command args` in a namespace to its end; a process still running after `timeoutMs` is
 * killed and the call fails with what it printed.
 */
export async function execInNamespace(
  namespace: string,
  command: string,
  args: readonly string[],
  opts: HostProcessOptions & { timeoutMs?: number },
): Promise<ExecResult> {
  const timeoutMs = opts.timeoutMs ?? 30_000;
  const run = spawnInNamespace(namespace, command, args, opts);
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), timeoutMs);
  });
  const exit = await Promise.race([run.exited, timedOut]);
  clearTimeout(timer);
  if (exit === 'timeout') {
    run.child.kill('SIGKILL');
    await run.exited;
    throw new Error(
      `${command} ${args.join(' ')} in ${namespace} did not end within ${timeoutMs}ms; ` +
        `stdout: ${run.stdout().slice(-2000)} stderr: ${run.stderr().slice(-2000)}`,
    );
  }
  return { ...exit, stdout: run.stdout(), stderr: run.stderr() };
}
