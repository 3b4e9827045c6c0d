import { probeCommand } from './probe-command.js';
import { probeHttp } from './probe-http.js';
import { probeTcp } from './probe-tcp.js';
import type { HealthCheckSpec, ProbeResult, ProbeTarget } from './types.js';

/** What one kind of probe reports; probe() adds the timing. */
export interface ProbeOutcome {
  readonly ok: boolean;
  readonly detail: string;
}

/**
 * Runs one probe, bounded by `timeoutMs` (a check without a timeout hangs on a stuck instance)
 * and cancelled by `signal`. Never throws: a failure is a result with ok false and its reason.
 */
export async function probe(
  check: HealthCheckSpec,
  target: ProbeTarget,
  timeoutMs: number,
  signal?: AbortSignal,
): Promise<ProbeResult> {
  const at = Date.now();
  const started = performance.now();
  let outcome: ProbeOutcome;
  try {
    outcome = await runProbe(check, target, timeoutMs, signal);
  } catch (error) {
    outcome = { ok: false, detail: error instanceof Error ? error.message : String(error) };
  }
  return { ...outcome, at, durationMs: Math.round(performance.now() - started) };
}

function runProbe(
  check: HealthCheckSpec,
  target: ProbeTarget,
  timeoutMs: number,
  signal?: AbortSignal,
): Promise<ProbeOutcome> {
  switch (check.kind) {
    case 'http':
      return probeHttp(check, target, timeoutMs, signal);
    case 'tcp':
      return probeTcp(target, timeoutMs, signal);
    case 'command':
      return probeCommand(check.command, target, timeoutMs, signal);
  }
}

/** "timed out after 1s", "timed out after 250ms". */
export function timedOut(timeoutMs: number): string {
  return `timed out after ${timeoutMs >= 1000 && timeoutMs % 100 === 0 ? `${timeoutMs / 1000}s` : `${timeoutMs}ms`}`;
}

/**
 * Settles a probe once, whichever comes first: its own outcome, the timeout or the abort.
 * `cleanup` runs once, after settling (destroy the socket, kill the command).
 */
export function settleOnce(
  resolve: (outcome: ProbeOutcome) => void,
  timeoutMs: number,
  signal: AbortSignal | undefined,
  onTimeout: () => ProbeOutcome,
  cleanup: () => void,
): (outcome: ProbeOutcome) => void {
  let settled = false;
  const settle = (outcome: ProbeOutcome) => {
    if (settled) return;
    settled = true;
    clearTimeout(timer);
    signal?.removeEventListener('abort', onAbort);
    cleanup();
    resolve(outcome);
  };
  const onAbort = () => settle({ ok: false, detail: 'aborted: the check was stopped' });
  const timer = setTimeout(() => settle(onTimeout()), timeoutMs);
  if (signal?.aborted) queueMicrotask(onAbort);
  else signal?.addEventListener('abort', onAbort, { once: true });
  return settle;
}
