import { FerryError } from '../errors/ferry-error.js';
import { compilePattern, type PathMatcher } from './rsync-pattern.js';

/**
 * Whether a path below the transfer root (`a/b/c`, no leading slash) is excluded: not copied from
 * the release, and protected from deletion in dest. An excluded directory is not entered.
 */
export interface ExcludeMatcher {
  (relativePath: string, isDirectory: boolean): boolean;
  /** The rule that decides a path (for rsync -vv's filter report); null when none matches. */
  ruleFor?: (relativePath: string, isDirectory: boolean) => DecidingRule | null;
}

/** A rule that matched: whether it includes, and its pattern as written (without its prefix). */
export interface DecidingRule {
  include: boolean;
  pattern: string;
}

interface ExcludeRule extends DecidingRule {
  matches: PathMatcher;
}

/**
 * Compiles an rsync exclude list as stretcher hands it to rsync (`--exclude-from=<file>` first, then
 * `--exclude=<item>` per item, in this order): each item is one rule; `- PATTERN` excludes,
 * `+ PATTERN` includes, anything else is an exclude pattern as it is (spaces kept), and `!` alone
 * clears the rules before it. The first rule that matches a path decides; no match: included.
 * rsync reads no other prefix in these lists: `exclude x`, `-, x` or `P x` are patterns.
 */
export function compileExcludes(items: readonly string[]): ExcludeMatcher {
  let rules: ExcludeRule[] = [];
  for (const item of items) {
    const rule = parseRule(item);
    if (rule === 'clear') rules = [];
    else if (rule !== null) rules.push(rule);
  }
  if (rules.length === 0) return () => false;
  const ruleFor = (relativePath: string, isDirectory: boolean): ExcludeRule | null =>
    rules.find((rule) => rule.matches(relativePath, isDirectory)) ?? null;
  const isExcluded: ExcludeMatcher = (relativePath, isDirectory) =>
    ruleFor(relativePath, isDirectory)?.include === false;
  isExcluded.ruleFor = ruleFor;
  return isExcluded;
}

/**
 * The rules of an rsync --exclude-from file: one per line (ended by LF, CR or CRLF), as they are
 * (no trimming); blank lines and lines starting with `#` or `;` are skipped.
 */
export function parseExcludeFile(text: string): string[] {
  return text.split(/[\r\n]/).filter((line) => line !== '' && !line.startsWith('#') && !line.startsWith(';'));
}

function parseRule(item: string): ExcludeRule | 'clear' | null {
  if (item === '') return null;
  if (item === '!') return 'clear';
  const prefix = item.startsWith('- ') || item.startsWith('+ ') ? item.slice(0, 2) : '';
  const pattern = item.slice(prefix.length);
  if (pattern === '') {
    throw new FerryError(
      'FERRY_E_MANIFEST_INVALID',
      `exclude rule ${JSON.stringify(item)}: expected a pattern after ${JSON.stringify(prefix)}, got nothing`,
      { where: 'excludes', expected: `${JSON.stringify(prefix)} followed by a pattern`, got: item },
    );
  }
  return { include: prefix === '+ ', pattern, matches: compilePattern(pattern) };
}
