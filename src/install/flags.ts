import { FerryError } from '../errors/ferry-error.js';
import { parseDuration as parseDurationText } from '../lib/duration.js';
import { parseSize } from '../lib/size.js';

/** stretcher's single-dash long flags, and this command's alternative spelling, to their Ferry names. */
const LEGACY_FLAGS: Record<string, string> = {
  '-max-bandwidth': '--max-bandwidth',
  '--max-band-width': '--max-bandwidth',
  '-max-band-width': '--max-bandwidth',
  '-timeout': '--timeout',
  '-random-delay': '--random-delay',
  '-retry': '--retry',
  '-retry-wait': '--retry-wait',
};

/** Rewrites stretcher-style `-timeout 10s` and `-timeout=10s` to `--timeout 10s`; stops at `--`. */
export function normalizeInstallArgv(argv: readonly string[]): string[] {
  const out: string[] = [];
  let passthrough = false;
  for (const arg of argv) {
    if (passthrough || arg === '--') {
      passthrough = true;
      out.push(arg);
      continue;
    }
    const eq = arg.indexOf('=');
    const name = eq === -1 ? arg : arg.slice(0, eq);
    const mapped = LEGACY_FLAGS[name];
    out.push(mapped === undefined ? arg : `${mapped}${eq === -1 ? '' : arg.slice(eq)}`);
  }
  return out;
}

/** A Go-style duration ("1m30s", "500ms", "0") or a plain number of seconds, in milliseconds. */
export function parseDuration(text: string, flag: string): number {
  const trimmed = text.trim();
  const ms = /^\d+(\.\d+)?$/.test(trimmed) ? Math.round(Number(trimmed) * 1000) : parseDurationText(trimmed);
  if (ms === undefined) throw usage(flag, 'a duration like "30s", "1m30s" or a number of seconds', text);
  return ms;
}

/** Bytes per second: "1048576", "512K", "10M", "1G" (binary units, case-insensitive, optional "B"). */
export function parseBandwidth(text: string, flag: string): number {
  const bytes = parseSize(text);
  if (bytes === undefined) throw usage(flag, 'bytes per second like 10M, 512K or 1048576', text);
  return bytes;
}

export function parseCount(text: string, flag: string): number {
  if (!/^\d+$/.test(text.trim())) throw usage(flag, 'a whole number', text);
  return Number(text.trim());
}

function usage(flag: string, expected: string, got: string): FerryError {
  return new FerryError('FERRY_E_USAGE', `${flag}: expected ${expected}, got ${JSON.stringify(got)}`, {
    where: flag,
    expected,
    got,
  });
}
