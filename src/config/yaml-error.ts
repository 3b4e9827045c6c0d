import type { YAMLError } from 'yaml';
import { FerryError } from '../errors/ferry-error.js';

/**
 * A YAML syntax error as one message: the file, line and column, what is wrong there, the line with
 * a caret under the position, and a hint. Only the first error is reported: the parser's later ones
 * follow from it (one unquoted `{version}` in a flow mapping makes twenty).
 *
 *   ferry.yaml:3:33: YAML syntax error: unexpected "{"
 *       3 |     artifact: { url: dist/hello-{version}.tar.gz }
 *         |                                 ^
 *     hint: inside { ... } braces start a mapping: quote the value: url: "dist/hello-{version}.tar.gz"
 */
export function yamlSyntaxError(text: string, errors: readonly YAMLError[], where: string): FerryError {
  const error = errors[0]!;
  const lines = text.split(/\r?\n/);
  const [start, end] = error.pos;
  const line = error.linePos?.[0].line ?? lineOf(text, start);
  const column = error.linePos?.[0].col ?? 1;
  const source = lines[line - 1] ?? '';
  const what = describe(error, text.slice(start, end));
  const hint = hintFor(error, source, column);
  const number = String(line);
  const gutter = ' '.repeat(number.length);
  // The caret lines up under tabs too: the padding keeps the line's own tabs.
  const pad = [...source.slice(0, column - 1)].map((c) => (c === '\t' ? '\t' : ' ')).join('');
  const width = Math.max(1, Math.min(end - start, source.length - (column - 1)));
  const message = [
    `${where}:${line}:${column}: YAML syntax error: ${what}`,
    `    ${number} | ${source}`,
    `    ${gutter} | ${pad}${'^'.repeat(width)}`,
    `  hint: ${hint}`,
  ].join('\n');
  return new FerryError('FERRY_E_CONFIG_INVALID', message, {
    where,
    line,
    column,
    problems: [{ path: '(yaml)', message: `line ${line}, column ${column}: ${what} (hint: ${hint})` }],
  });
}

function lineOf(text: string, offset: number): number {
  return text.slice(0, offset).split('\n').length;
}

/** What is wrong, in a few words: the parser's first line without its position. */
function describe(error: YAMLError, token: string): string {
  if (error.code === 'UNEXPECTED_TOKEN' && token.trim() !== '') return `unexpected ${JSON.stringify(token)}`;
  const first = error.message.split('\n')[0] ?? error.message;
  const bare = first.replace(/ at line \d+, column \d+:?$/, '');
  return bare.charAt(0).toLowerCase() + bare.slice(1);
}

// A plain value holding a {placeholder}: `dist/hello-{version}.tar.gz`, `{version}.tgz`.
const BRACED_VALUE = /[^\s"',[\]{}]*\{[A-Za-z_]\w*\}[^\s"',[\]{}]*/g;

function hintFor(error: YAMLError, source: string, column: number): string {
  const braced = bracedValueNear(source, column);
  if (braced !== null) {
    const key = /([\w.-]+):\s*$/.exec(source.slice(0, braced.start))?.[1];
    const quoted = `"${braced.text}"`;
    return `inside { ... } braces start a mapping, so a value holding them must be quoted: ${key === undefined ? quoted : `${key}: ${quoted}`}`;
  }
  switch (error.code) {
    case 'TAB_AS_INDENT':
      return 'indent with spaces: YAML does not allow tabs for indentation';
    case 'DUPLICATE_KEY':
      return 'a key may appear once in a mapping: merge the two entries';
    case 'BAD_INDENT':
      return 'the keys of one mapping start at the same column, and a { or [ must be closed';
    case 'MISSING_CHAR':
      return 'a quote, bracket or comma is missing: look for one opened above and not closed';
    case 'BLOCK_AS_IMPLICIT_KEY':
    case 'MULTILINE_IMPLICIT_KEY':
      return 'a value containing ": " must be quoted';
    default:
      return 'check the quotes, brackets and indentation at and above this position';
  }
}

/** The unquoted value with braces on the line at or before the error's column, if any. */
function bracedValueNear(source: string, column: number): { text: string; start: number } | null {
  let found: { text: string; start: number } | null = null;
  for (const match of source.matchAll(BRACED_VALUE)) {
    if (match.index >= column) break;
    if (isQuoted(source, match.index) || !insideFlow(source.slice(0, match.index))) continue;
    found = { text: match[0], start: match.index };
  }
  return found;
}

/** True when the text opens more { or [ than it closes: what follows is in a flow collection. */
function insideFlow(before: string): boolean {
  let depth = 0;
  for (const c of before) {
    if (c === '{' || c === '[') depth++;
    else if (c === '}' || c === ']') depth--;
  }
  return depth > 0;
}

/** True when position `at` of the line is inside a quoted string. */
function isQuoted(source: string, at: number): boolean {
  let quote: string | null = null;
  for (let i = 0; i < at; i++) {
    const c = source[i];
    if (quote === null && (c === '"' || c === "'")) quote = c;
    else if (c === quote && source[i - 1] !== '\\') quote = null;
  }
  return quote !== null;
}
