import { spawn } from 'node:child_process';
import { redactText } from '../lib/redact.js';
import { accountSpawnOptions } from '../supervisor/account.js';
import { settleOnce, timedOut, type ProbeOutcome } from './probe.js';
import type { ProbeTarget } from './types.js';

/** The most of a failing command's output quoted as evidence (its end, where errors are). */
const OUTPUT_CHARS = 200;

/**
 * Runs the check command with `sh -c` in the release dir, in the target's environment (a clean base
 * and the app's variables, as its hooks get) with PORT set, as the app's account; exit 0 passes. It
 * runs in its own process group so that a timeout kills it with everything it started. The output
 * it quotes hides the target's known secrets and URL credentials.
 */
export function probeCommand(
  command: string,
  target: ProbeTarget,
  timeoutMs: number,
  signal?: AbortSignal,
): Promise<ProbeOutcome> {
  // The command as evidence shows it: a secret written into the check's line stays hidden too.
  const shown = redactText(command, target.secrets);
  return new Promise((resolve) => {
    const child = spawn('sh', ['-c', command], {
      cwd: target.cwd,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...target.env, PORT: String(target.port) },
      ...accountSpawnOptions(target.account),
    });
    const killGroup = () => {
      if (child.pid === undefined) return;
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {
        // the group is gone already
      }
    };
    const settle = settleOnce(
      resolve,
      timeoutMs,
      signal,
      () => ({ ok: false, detail: `${shown}: ${timedOut(timeoutMs)}` }),
      killGroup,
    );
    let output = '';
    // Twice what is quoted: a secret cut at the start of what is kept falls outside the quote.
    const keep = (chunk: Buffer) => (output = (output + chunk.toString('utf8')).slice(-2 * OUTPUT_CHARS));
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    child.once('error', (error) =>
      settle({ ok: false, detail: `${shown}: cannot run in ${target.cwd}: ${error.message}` }),
    );
    // Leftovers it started in the background would hold the pipes open and 'close' would never come.
    child.once('exit', killGroup);
    child.once('close', (code, killedBy) => {
      if (code === 0) return settle({ ok: true, detail: `${shown} -> exit 0` });
      const result = code === null ? `killed by ${killedBy}` : `exit ${code}`;
      const quoted = redactText(output, target.secrets).slice(-OUTPUT_CHARS).trim();
      const tail = quoted ? ` ${JSON.stringify(quoted)}` : '';
      settle({ ok: false, detail: `${shown} -> ${result}${tail}` });
    });
  });
}
