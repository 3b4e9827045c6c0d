/**
 * The daemon's log as a person reads it on a terminal: one line per entry, time, level, where and
 * what, then the other fields as key=value. It formats pino's JSON lines after pino redacted them,
 * so a secret the JSON log hides stays hidden here.
 */

const LEVELS: ReadonlyMap<number, { name: string; color: string }> = new Map([
  [10, { name: 'TRACE', color: '\x1b[90m' }],
  [20, { name: 'DEBUG', color: '\x1b[90m' }],
  [30, { name: 'INFO ', color: '\x1b[32m' }],
  [40, { name: 'WARN ', color: '\x1b[33m' }],
  [50, { name: 'ERROR', color: '\x1b[31m' }],
  [60, { name: 'FATAL', color: '\x1b[35m' }],
]);
const RESET = '\x1b[0m';
const DIM = '\x1b[2m';

/** Fields shown in their own place, or not at all (the daemon's pid, pino's version). */
const PLACED = new Set(['level', 'time', 'msg', 'pid', 'hostname', 'v', 'app', 'env', 'err']);

/** One log entry (a line of pino's JSON) as one readable line; a line that is not JSON stays as it is. */
export function formatLogLine(json: string, opts: { color: boolean }): string {
  let entry: Record<string, unknown>;
  try {
    const parsed: unknown = JSON.parse(json);
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) return json.trimEnd();
    entry = parsed as Record<string, unknown>;
  } catch {
    return json.trimEnd();
  }
  const paint = (code: string, text: string) => (opts.color ? `${code}${text}${RESET}` : text);
  const level = LEVELS.get(Number(entry.level)) ?? {
    name: showValue(entry.level ?? '?').padEnd(5),
    color: '',
  };
  const time = typeof entry.time === 'number' ? new Date(entry.time).toISOString().slice(11, 23) : '';
  const where =
    typeof entry.app === 'string'
      ? `[${entry.app}${typeof entry.env === 'string' ? `/${entry.env}` : ''}] `
      : '';
  const fields = Object.entries(entry)
    .filter(([key]) => !PLACED.has(key))
    .map(([key, value]) => `${key}=${showValue(value)}`);
  const error = describeError(entry.err);
  const message = typeof entry.msg === 'string' ? entry.msg : '';
  const parts = [
    paint(DIM, time),
    paint(level.color, level.name),
    `${where}${message}${error ? `: ${error}` : ''}`,
  ];
  if (fields.length > 0) parts.push(paint(DIM, fields.join(' ')));
  return parts.filter((part) => part !== '').join(' ');
}

/** A writable for pino that prints each entry as a readable line on `out` (a terminal). */
export function readableLogStream(out: NodeJS.WritableStream, opts: { color: boolean }) {
  return {
    write(line: string): void {
      out.write(`${formatLogLine(line, opts)}\n`);
    },
  };
}

function showValue(value: unknown): string {
  if (typeof value === 'string') return /[\s="]/.test(value) || value === '' ? JSON.stringify(value) : value;
  return JSON.stringify(value) ?? String(value);
}

/** An error as pino serialises it: its message (and code), never the stack on the terminal. */
function describeError(err: unknown): string | null {
  if (err === undefined || err === null) return null;
  if (typeof err !== 'object') return showValue(err);
  const { message, code } = err as { message?: unknown; code?: unknown };
  const text = typeof message === 'string' ? message : JSON.stringify(err);
  return typeof code === 'string' ? `${text} (${code})` : text;
}
