/**
 * rsync-style exclude patterns: a pattern without a slash matches a name at any depth; one with a
 * slash matches the end of the path ("/"-anchored: the whole path from the root); a trailing
 * slash matches only directories; `*` stays within a name, `**` crosses slashes, `?` is one
 * character, `[...]` a class. An excluded directory excludes all beneath it.
 */
export type ExcludeMatcher = (relativePath: string, isDirectory: boolean) => boolean;

interface CompiledPattern {
  regex: RegExp;
  directoryOnly: boolean;
  basenameOnly: boolean;
}

export function compileExcludes(patterns: readonly string[]): ExcludeMatcher {
  const compiled = patterns
    .map((p) => p.trim())
    .filter((p) => p !== '')
    .map(compilePattern);
  if (compiled.length === 0) return () => false;
  return (relativePath, isDirectory) => {
    const basename = relativePath.slice(relativePath.lastIndexOf('/') + 1);
    return compiled.some(
      (p) => (!p.directoryOnly || isDirectory) && p.regex.test(p.basenameOnly ? basename : relativePath),
    );
  };
}

/** The lines of an rsync --exclude-from file: blank lines and lines starting with # or ; are skipped. */
export function parseExcludeFile(text: string): string[] {
  return text
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#') && !line.startsWith(';'));
}

function compilePattern(pattern: string): CompiledPattern {
  const directoryOnly = pattern.endsWith('/');
  let body = directoryOnly ? pattern.replace(/\/+$/, '') : pattern;
  const anchored = body.startsWith('/');
  if (anchored) body = body.slice(1);
  const basenameOnly = !anchored && !body.includes('/');
  const source = globToRegex(body);
  const prefix = anchored || basenameOnly ? '^' : '^(?:.*/)?';
  return { regex: new RegExp(`${prefix}${source}$`), directoryOnly, basenameOnly };
}

function globToRegex(glob: string): string {
  let out = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i] ?? '';
    if (c === '*') {
      if (glob[i + 1] === '*') {
        out += '.*';
        i++;
      } else out += '[^/]*';
    } else if (c === '?') out += '[^/]';
    else if (c === '[') {
      const end = glob.indexOf(']', i + 2);
      if (end === -1) out += '\\[';
      else {
        const inner = glob
          .slice(i + 1, end)
          .replace(/^!/, '^')
          .replace(/\\/g, '\\\\');
        out += `[${inner}]`;
        i = end;
      }
    } else if (c === '\\' && i + 1 < glob.length) {
      out += escapeRegex(glob[++i] ?? '');
    } else out += escapeRegex(c);
  }
  return out;
}

function escapeRegex(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}
