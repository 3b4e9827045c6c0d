/**
 * One rsync include/exclude pattern (rsync(1), INCLUDE/EXCLUDE PATTERN RULES), matched the way
 * rsync 3.x matches it:
 * - a pattern with a `/` (other than a trailing one) or a `**` is matched against the whole path
 *   below the transfer root, one without against the last component only;
 * - a leading `/` anchors it at the transfer root; unanchored, a pattern with an inner `/` (and no
 *   `**`) matches the path's last components, one with `**` may start after any `/`;
 * - a trailing `/` matches directories only; a trailing `/***` matches the directory and all below;
 * - `*` is any run without `/`, `**` any run, `?` one character but `/`, `[...]` a class (`!` or `^`
 *   negates, ranges, `[:alpha:]` and friends; never `/`); a backslash escapes, but only in a pattern
 *   with a wildcard: without one the pattern is a plain string, backslashes included.
 * Matching is on bytes, as rsync's is: a name is compared as its UTF-8 encoding.
 */
export type PathMatcher = (relativePath: string, isDirectory: boolean) => boolean;

type Placement = 'start' | 'any-start' | 'trailing';

/** Compiles one pattern (without its `- ` / `+ ` prefix). */
export function compilePattern(pattern: string): PathMatcher {
  const directoryOnly = pattern.length > 1 && pattern.endsWith('/');
  const body = toBytes(directoryOnly ? pattern.slice(0, -1) : pattern);
  const slashes = countSlashes(body);
  const wild = /[*?[]/.test(body);
  const doubleStar = wild && body.includes('**');
  const leadingDoubleStar = doubleStar && body.startsWith('**');
  const dirAndBelow = doubleStar && body.endsWith('***');
  const anchored = body.startsWith('/');
  const glob = anchored ? body.slice(1) : body;
  const wholePath = slashes > 0 || doubleStar;
  const placement: Placement =
    !anchored && slashes > 0 && !doubleStar
      ? 'trailing'
      : !anchored && doubleStar && !leadingDoubleStar
        ? 'any-start'
        : 'start';
  const test = wild ? wildcardTest(glob, placement, slashes + 1) : literalTest(glob, anchored);
  return (relativePath, isDirectory) => {
    if (directoryOnly && !isDirectory) return false;
    let subject = toBytes(wholePath ? relativePath : relativePath.slice(relativePath.lastIndexOf('/') + 1));
    // "**/x" may match x at the root; "dir/***" matches dir itself.
    if (leadingDoubleStar) subject = `/${subject}`;
    if (isDirectory && dirAndBelow) subject = `${subject}/`;
    return test(subject);
  };
}

function literalTest(text: string, anchored: boolean): (subject: string) => boolean {
  if (anchored) return (subject) => subject === text;
  // The pattern's components are the path's last ones.
  return (subject) =>
    subject.endsWith(text) &&
    (subject.length === text.length || subject[subject.length - text.length - 1] === '/');
}

function wildcardTest(glob: string, placement: Placement, elements: number): (subject: string) => boolean {
  const source = globToRegex(glob);
  if (source === null) return () => false;
  if (placement === 'trailing') {
    const regex = new RegExp(`^(?:${source})$`, 's');
    return (subject) => {
      const tail = trailingElements(subject, elements);
      return tail !== null && regex.test(tail);
    };
  }
  const regex = new RegExp(placement === 'any-start' ? `^(?:.*/)?(?:${source})$` : `^(?:${source})$`, 's');
  return (subject) => regex.test(subject);
}

/** The last `count` slash-separated elements of path, or null when it has fewer. */
function trailingElements(path: string, count: number): string | null {
  let seen = 0;
  for (let i = path.length - 1; i >= 0; i--) {
    if (path[i] === '/' && ++seen === count) return path.slice(i + 1);
  }
  return seen === count - 1 ? path : null;
}

/**
 * The wildcard syntax as a regular expression source, or null for a pattern that can never match
 * (rsync gives up on an unterminated class, an unknown `[:name:]` or a trailing backslash).
 */
function globToRegex(glob: string): string | null {
  let out = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob.charAt(i);
    if (c === '\\') {
      if (++i >= glob.length) return null;
      out += escapeChar(glob.charAt(i));
    } else if (c === '?') {
      out += '[^/]';
    } else if (c === '*') {
      let end = i;
      while (glob.charAt(end + 1) === '*') end++;
      out += end > i ? '.*' : '[^/]*';
      i = end;
    } else if (c === '[') {
      const parsed = parseClass(glob, i + 1);
      if (parsed === null) return null;
      out += parsed.source;
      i = parsed.end;
    } else {
      out += escapeChar(c);
    }
  }
  return out;
}

const NAMED_CLASSES: ReadonlyMap<string, string> = new Map([
  ['alnum', '0-9A-Za-z'],
  ['alpha', 'A-Za-z'],
  ['blank', ' \\t'],
  ['cntrl', '\\x00-\\x1f\\x7f'],
  ['digit', '0-9'],
  ['graph', '\\x21-\\x7e'],
  ['lower', 'a-z'],
  ['print', '\\x20-\\x7e'],
  ['punct', '\\x21-\\x2f\\x3a-\\x40\\x5b-\\x60\\x7b-\\x7e'],
  ['space', '\\t\\n\\x0b\\f\\r '],
  ['upper', 'A-Z'],
  ['xdigit', '0-9A-Fa-f'],
]);

/**
 * A character class whose first member is at `start` (just after `[`): rsync reads the first
 * member before it looks for the closing `]`, so `[]a]` holds `]` and `a`. Returns the regex and
 * the index of the closing `]`.
 */
function parseClass(glob: string, start: number): { source: string; end: number } | null {
  let p = start;
  const negated = glob[p] === '!' || glob[p] === '^';
  if (negated) p++;
  const members: string[] = [];
  // The previous single character, which a following `-x` makes a range from; none after a range.
  let previous: string | null = null;
  do {
    let c = glob[p];
    if (c === undefined) return null;
    if (c === '\\') {
      c = glob[++p];
      if (c === undefined) return null;
      members.push(escapeChar(c));
      previous = c;
    } else if (c === '-' && previous !== null && glob[p + 1] !== undefined && glob[p + 1] !== ']') {
      let high = glob[++p] ?? '';
      if (high === '\\') {
        high = glob[++p] ?? '';
        if (high === '') return null;
      }
      if (high >= previous) members.push(`${escapeChar(previous)}-${escapeChar(high)}`);
      previous = null;
    } else if (c === '[' && glob[p + 1] === ':') {
      const close = glob.indexOf(']', p + 2);
      if (close === -1) return null;
      const inner = glob.slice(p + 2, close);
      if (inner.length === 0 || !inner.endsWith(':')) {
        // Not a [:name:] after all: "[" is a member and reading goes on after it.
        members.push(escapeChar('['));
        previous = '[';
      } else {
        const named = NAMED_CLASSES.get(inner.slice(0, -1));
        if (named === undefined) return null;
        members.push(named);
        previous = null;
        p = close;
      }
    } else {
      members.push(escapeChar(c));
      previous = c;
    }
  } while (glob[++p] !== ']');
  return { source: `(?!/)[${negated ? '^' : ''}${members.join('')}]`, end: p };
}

function escapeChar(c: string): string {
  return /[A-Za-z0-9]/.test(c) ? c : `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`;
}

/** The string's UTF-8 bytes, one character each (names are bytes to rsync); ASCII as it is. */
function toBytes(text: string): string {
  // eslint-disable-next-line no-control-regex
  return /[^\x00-\x7f]/.test(text) ? Buffer.from(text, 'utf8').toString('latin1') : text;
}

function countSlashes(text: string): number {
  let count = 0;
  for (let i = text.indexOf('/'); i !== -1; i = text.indexOf('/', i + 1)) count++;
  return count;
}
