import { FerryError } from '../errors/ferry-error.js';
import { parseGoDuration, parseGoFloat, parseGoInt, parseHumanizeBytes } from './go-flag-values.js';

/** A long flag of `ferry install`: its name for commander, and whether a value follows it. */
interface LongFlag {
  readonly name: string;
  readonly takesValue: boolean;
}

const valued = (name: string): LongFlag => ({ name, takesValue: true });
const boolean = (name: string): LongFlag => ({ name, takesValue: false });

/**
 * Every spelling of the long flags, without dashes: Go's flag package (stretcher 1.x) reads `-name`
 * and `--name` alike, so each is accepted with one dash or two. -max-band-width is the spelling of
 * the kong-based stretcher on its main branch; -v and -version print the version, as stretcher's do.
 */
const LONG_FLAGS = new Map<string, LongFlag>([
  ['max-bandwidth', valued('max-bandwidth')],
  ['max-band-width', valued('max-bandwidth')],
  ['timeout', valued('timeout')],
  ['random-delay', valued('random-delay')],
  ['retry', valued('retry')],
  ['retry-wait', valued('retry-wait')],
  ['rsync-verbose', valued('rsync-verbose')],
  ['command-timeout', valued('command-timeout')],
  ['lock-wait', valued('lock-wait')],
  ['cache-dir', valued('cache-dir')],
  ['no-cache', boolean('no-cache')],
  ['version', boolean('version')],
  ['v', boolean('version')],
  ['help', boolean('help')],
]);

/** strconv.ParseBool, which Go's flag package uses for `-name=value` on a boolean flag. */
const GO_BOOLEANS = new Map<string, boolean>(
  ['1', 't', 'T', 'TRUE', 'true', 'True']
    .map((text): [string, boolean] => [text, true])
    .concat(['0', 'f', 'F', 'FALSE', 'false', 'False'].map((text): [string, boolean] => [text, false])),
);

/**
 * Rewrites Go-style flags (`-timeout 10s`, `-timeout=10s`, `--rsync-verbose -vv`, `-no-cache=true`)
 * to the `--name value` commander reads. The value after a flag that takes one is copied as it is,
 * even when it starts with a dash (`-rsync-verbose -v`), as Go's flag package takes it; `--` ends
 * the flags. Anything unknown is left for commander to refuse.
 */
export function normalizeInstallArgv(argv: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? '';
    if (arg === '--') {
      out.push(...argv.slice(i));
      break;
    }
    const match = /^--?([^-=][^=]*)(?:=(.*))?$/s.exec(arg);
    const flag = match ? LONG_FLAGS.get(match[1] ?? '') : undefined;
    const value = match?.[2];
    if (flag === undefined) {
      out.push(arg);
    } else if (flag.takesValue) {
      out.push(`--${flag.name}`);
      if (value !== undefined) out.push(value);
      else if (i + 1 < argv.length) out.push(argv[++i] ?? '');
    } else if (value === undefined) {
      out.push(`--${flag.name}`);
    } else {
      const on = GO_BOOLEANS.get(value);
      if (on === undefined)
        out.push(`--${flag.name}=${value}`); // commander refuses it
      else if (on) out.push(`--${flag.name}`);
    }
  }
  return out;
}

/** The longest wait a Node timer can hold (2^31-1 ms, about 24.8 days). */
const MAX_MS = 2 ** 31 - 1;

/**
 * A duration flag in milliseconds: Go's time.ParseDuration ("500ms", "30s", "1m30s", ".5h") or a
 * number of seconds as stretcher 1.x read them: flag.Int64 for -timeout and -retry-wait (`seconds:
 * 'int'`: Go's integer syntax, so "010" is 8), flag.Float64 for -random-delay (`'decimal'`). A
 * decimal number of seconds is accepted by every duration flag. A nonzero duration is at least 1 ms.
 */
export function parseDuration(text: string, flag: string, seconds: 'int' | 'decimal' = 'decimal'): number {
  const expected = 'a duration like "30s", "1m30s" or "500ms", or a number of seconds';
  let ns = parseGoDuration(text);
  const whole = seconds === 'int' && ns === undefined ? parseGoInt(text) : undefined;
  if (whole !== undefined) ns = Number(whole) * 1e9;
  if (ns === undefined) {
    const decimal = parseGoFloat(text);
    if (decimal !== undefined) ns = Math.round(decimal * 1e9);
  }
  if (ns === undefined) throw usage(flag, expected, text);
  if (ns < 0) throw usage(flag, `${expected}, not negative`, text);
  const ms = Math.ceil(ns / 1e6);
  if (ms > MAX_MS) throw usage(flag, `${expected}, at most 24 days`, text);
  return ms;
}

/**
 * Bytes per second as stretcher reads -max-bandwidth (go-humanize's ParseBytes): SI units "10M"
 * and "10MB" are 10,000,000, IEC units "10Mi" and "10MiB" 10,485,760; case-insensitive, a space
 * before the unit allowed, decimals ("1.5M") truncated to whole bytes. Empty or 0: no limit.
 */
export function parseBandwidth(text: string, flag: string): number {
  if (text === '') return 0;
  const bytes = parseHumanizeBytes(text);
  if (bytes === undefined) {
    throw usage(flag, 'bytes per second like 10M (10,000,000), 10Mi (10,485,760) or 1048576', text);
  }
  // Past 2^53 B/s a limit limits nothing.
  return Math.min(bytes, Number.MAX_SAFE_INTEGER);
}

/** A count (-retry): Go's integer syntax, as flag.Int reads it; not negative. */
export function parseCount(text: string, flag: string): number {
  const count = parseGoInt(text);
  if (count === undefined || count < 0n || count > BigInt(Number.MAX_SAFE_INTEGER)) {
    throw usage(flag, 'a whole number, 0 or more', text);
  }
  return Number(count);
}

/** The rsync verbosity stretcher 1.x accepts for -rsync-verbose (its default is -v). */
const RSYNC_VERBOSITIES = new Set(['', '-v', '-vv', '-vvv']);

/** -rsync-verbose: "", -v, -vv or -vvv, as stretcher checks it. */
export function parseRsyncVerbose(text: string, flag: string): string {
  if (!RSYNC_VERBOSITIES.has(text)) throw usage(flag, '"", -v, -vv or -vvv', text);
  return text;
}

function usage(flag: string, expected: string, got: string): FerryError {
  return new FerryError('FERRY_E_USAGE', `${flag}: expected ${expected}, got ${JSON.stringify(got)}`, {
    where: flag,
    expected,
    got,
  });
}
