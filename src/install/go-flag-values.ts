/**
 * The value syntaxes of the Go functions stretcher's flags went through (stretcher 1.1, Go's flag
 * package), so that a handler line written for stretcher means the same to `ferry install`:
 * go-humanize's ParseBytes (-max-bandwidth), strconv.ParseInt with base 0 (flag.Int and flag.Int64:
 * -retry, and -timeout and -retry-wait in seconds), strconv.ParseFloat (flag.Float64: -random-delay
 * in seconds) and time.ParseDuration (the unreleased kong-based stretcher). Each returns undefined
 * for what Go refuses.
 */

/** go-humanize v1.0.0's bytesSizeTable: SI units are powers of 1000, IEC units ("Ki") of 1024. */
const BYTE_UNITS = new Map<string, number>([
  ['', 1],
  ['b', 1],
  ['k', 1e3],
  ['kb', 1e3],
  ['ki', 2 ** 10],
  ['kib', 2 ** 10],
  ['m', 1e6],
  ['mb', 1e6],
  ['mi', 2 ** 20],
  ['mib', 2 ** 20],
  ['g', 1e9],
  ['gb', 1e9],
  ['gi', 2 ** 30],
  ['gib', 2 ** 30],
  ['t', 1e12],
  ['tb', 1e12],
  ['ti', 2 ** 40],
  ['tib', 2 ** 40],
  ['p', 1e15],
  ['pb', 1e15],
  ['pi', 2 ** 50],
  ['pib', 2 ** 50],
  ['e', 1e18],
  ['eb', 1e18],
  ['ei', 2 ** 60],
  ['eib', 2 ** 60],
]);

/** What Go's unicode.IsSpace accepts (strings.TrimSpace); JavaScript's \s differs at U+0085 and U+FEFF. */
const GO_SPACE = '[\\t\\n\\v\\f\\r \\u0085\\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000]';
const GO_TRIM = new RegExp(`^${GO_SPACE}+|${GO_SPACE}+$`, 'g');

/** strconv.ParseFloat of a run of ASCII digits and dots (ParseBytes never passes it anything else). */
const DIGITS_AND_DOT = /^(?:\d+\.?\d*|\.\d+)$/;

/**
 * go-humanize's ParseBytes: the leading run of digits, dots and commas (commas dropped) is the
 * number, the rest, trimmed and case-folded, the unit: "10M" and "10MB" are 10,000,000, "10Mi" and
 * "10 MiB" 10,485,760, "1.5k" 1,500, "1,024" 1,024. The result is truncated to whole bytes.
 */
export function parseHumanizeBytes(text: string): number | undefined {
  const run = /^[\d.,]*/.exec(text)?.[0] ?? '';
  const digits = run.replaceAll(',', '');
  if (!DIGITS_AND_DOT.test(digits)) return undefined;
  const unit = BYTE_UNITS.get(text.slice(run.length).replace(GO_TRIM, '').toLowerCase());
  if (unit === undefined) return undefined;
  const bytes = Number(digits) * unit;
  // go-humanize refuses what a uint64 cannot hold ("too large").
  return bytes >= 2 ** 64 ? undefined : Math.trunc(bytes);
}

/**
 * strconv.ParseInt(text, 0, 64), as flag.Int parses: an optional sign, then decimal, 0x hex, 0o or
 * a leading 0 octal, or 0b binary, with underscores between digits ("1_000").
 */
export function parseGoInt(text: string): bigint | undefined {
  const match = /^([+-]?)(.*)$/s.exec(text);
  const [, sign = '', body = ''] = match ?? [];
  let digits: string;
  let radix: bigint;
  if (/^0[xX](?:_?[\da-fA-F])+$/.test(body)) [digits, radix] = [body.slice(2), 16n];
  else if (/^0[oO](?:_?[0-7])+$/.test(body)) [digits, radix] = [body.slice(2), 8n];
  else if (/^0[bB](?:_?[01])+$/.test(body)) [digits, radix] = [body.slice(2), 2n];
  else if (/^0(?:_?[0-7])+$/.test(body)) [digits, radix] = [body.slice(1), 8n];
  else if (/^(?:0|[1-9](?:_?\d)*)$/.test(body)) [digits, radix] = [body, 10n];
  else return undefined;
  let value = 0n;
  for (const char of digits.replaceAll('_', '')) value = value * radix + BigInt(parseInt(char, 16));
  if (sign === '-') value = -value;
  return value >= -(2n ** 63n) && value < 2n ** 63n ? value : undefined;
}

/** strconv.ParseFloat's decimal form, as flag.Float64 parses: "1.5", ".5", "+2", "1e3". */
export function parseGoFloat(text: string): number | undefined {
  if (!/^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/.test(text)) return undefined;
  const value = Number(text);
  return Number.isFinite(value) ? value : undefined;
}

const NANOSECONDS = new Map<string, number>([
  ['ns', 1],
  ['us', 1e3],
  ['µs', 1e3], // U+00B5 micro sign
  ['μs', 1e3], // U+03BC Greek mu
  ['ms', 1e6],
  ['s', 1e9],
  ['m', 60e9],
  ['h', 3600e9],
]);
// The Greek mu escaped: one character above U+00FF in a module's source makes V8 keep the whole
// source (the CLI's bundle: 240 KB) as two bytes a character.
const DURATION_PART = /(\d+\.?\d*|\.\d+)(ns|us|µs|\u03bcs|ms|s|m|h)/gu;
const DURATION = /^[+-]?(?:0|(?:(?:\d+\.?\d*|\.\d+)(?:ns|us|µs|\u03bcs|ms|s|m|h))+)$/u;

/**
 * time.ParseDuration: an optional sign, then "0" or a sequence of decimal numbers each with a unit
 * (ns, us, µs, ms, s, m, h): "300ms", "1.5h", "2h45m", ".5s". In nanoseconds.
 */
export function parseGoDuration(text: string): number | undefined {
  if (!DURATION.test(text)) return undefined;
  let ns = 0;
  for (const [, amount, unit] of text.matchAll(DURATION_PART)) {
    ns += Number(amount) * (NANOSECONDS.get(unit ?? '') ?? Number.NaN);
  }
  // Go's limit: an int64 of nanoseconds, about 290 years.
  if (!(ns < 2 ** 63)) return undefined;
  return text.startsWith('-') ? -Math.round(ns) : Math.round(ns);
}
