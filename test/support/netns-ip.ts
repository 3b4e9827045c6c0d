import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { findProgram } from '../../src/lib/test-support/required-program.js';

/** Where Debian puts iproute2's programs; an ordinary user's PATH omits them. */
const SBIN = ['/usr/sbin', '/sbin'];
/** CAP_NET_ADMIN (links, addresses, bridge ports) and CAP_SYS_ADMIN (`ip netns add` mounts). */
const NEEDED_CAPABILITIES = [
  { name: 'CAP_NET_ADMIN', bit: 12n },
  { name: 'CAP_SYS_ADMIN', bit: 21n },
];
/** No single `ip` call of the harness takes long; one that hangs fails instead of the test's timeout. */
const COMMAND_TIMEOUT_MS = 30_000;

/**
 * Why network namespaces cannot be made here, or null when they can: they need Linux, root's
 * capabilities and iproute2 (`ip`, `bridge`).
 */
export function netnsUnavailable(): string | null {
  if (process.platform !== 'linux') return `network namespaces are Linux only (this is ${process.platform})`;
  const missing = missingCapabilities();
  if (missing.length > 0) {
    return `the fleet network needs root (${missing.join(' and ')} missing): it creates network namespaces, veth pairs and a bridge; run the tests as root, as CI does`;
  }
  for (const command of ['ip', 'bridge']) {
    if (findProgram(command, SBIN) === null) {
      return `${command} (Debian package iproute2) is not installed: \`npm test\` installs it (scripts/test-deps.mjs, as root with apt-get)`;
    }
  }
  return null;
}

/**
 * For a test file that needs the fleet network: null when it can run; else the reason, after a
 * warning, for `describe.skipIf`. Under CI=true (which runs as root) a reason is a failure, never
 * a skip.
 */
export function netnsSkipReason(): string | null {
  const reason = netnsUnavailable();
  if (reason === null) return null;
  if (process.env.CI === 'true') throw new Error(`${reason} (CI=true: this is a failure, not a skip)`);
  console.warn(`skipping the fleet network tests: ${reason}`);
  return reason;
}

/** Throws the reason when network namespaces cannot be made here. */
export function requireNetns(): void {
  const reason = netnsUnavailable();
  if (reason !== null) throw new Error(reason);
}

/** The capabilities this process lacks of those the harness needs (from /proc/self/status). */
function missingCapabilities(): string[] {
  let effective = 0n;
  try {
    const hex = /^CapEff:\s*([0-9a-f]+)$/m.exec(readFileSync('/proc/self/status', 'utf8'))?.[1];
    effective = BigInt(`0x${hex ?? '0'}`);
  } catch {
    // no /proc: nothing can be shown to be there
  }
  return NEEDED_CAPABILITIES.filter(({ bit }) => (effective & (1n << bit)) === 0n).map(({ name }) => name);
}

/** What an iproute2 command printed, and how it ended. */
export interface CommandResult {
  readonly code: number | null;
  /** The signal that ended it: SIGTERM after COMMAND_TIMEOUT_MS. */
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * Runs iproute2's `ip` (or `bridge`) with `args`, feeding `input` to its stdin (for `-batch -`).
 * Resolves with what it printed; unless `allowFailure`, a non-zero exit rejects with the command
 * and its stderr.
 */
export async function runIproute(
  program: 'ip' | 'bridge',
  args: readonly string[],
  opts: { input?: string; allowFailure?: boolean } = {},
): Promise<CommandResult> {
  const file = findProgram(program, SBIN);
  if (file === null) throw new Error(netnsUnavailable() ?? `${program} is not installed`);
  const result = await new Promise<CommandResult>((resolve, reject) => {
    const child = spawn(file, args, { stdio: ['pipe', 'pipe', 'pipe'], timeout: COMMAND_TIMEOUT_MS });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.once('error', reject);
    child.once('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
    // A command that reads no stdin, or fails early in a batch, closes it: its exit tells, not the EPIPE.
    child.stdin.on('error', () => undefined).end(opts.input ?? '');
  });
  if (result.code !== 0 && !opts.allowFailure) {
    const batch = opts.input ? `\nits input was:\n${opts.input}` : '';
    throw new Error(
      `${program} ${args.join(' ')} failed (${result.signal ?? result.code}): ${result.stderr.trim()}${batch}`,
    );
  }
  return result;
}

/** The path of iproute2's `ip`, for spawning `ip netns exec`. */
export function ipPath(): string {
  const file = findProgram('ip', SBIN);
  if (file === null) throw new Error(netnsUnavailable() ?? 'ip is not installed');
  return file;
}
