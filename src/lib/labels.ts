import { describeValue, FerryError } from '../errors/ferry-error.js';

/**
 * A host's labels (role=web, zone=a), by which environments select hosts. Keys and values come
 * from outside (an agent, an operator), so a Labels object has no prototype: `labels[key]` finds
 * only the labels themselves, whatever the key (`constructor` is a valid label key).
 */
export type Labels = Readonly<Record<string, string>>;

/** A label key: a lowercase letter, then up to 62 lowercase letters, digits, `.`, `_`, `/`, `-`. */
export const LABEL_KEY_PATTERN = /^[a-z][a-z0-9._/-]{0,62}$/;
/** A label value: 1 to 63 letters, digits, `.`, `_`, `-`. */
export const LABEL_VALUE_PATTERN = /^[A-Za-z0-9._-]{1,63}$/;
/** More labels than a host needs: a bound on what one request can make the store keep. */
export const MAX_LABELS = 64;

/** Labels from pairs, keys in order, with no prototype; frozen. */
export function labelsOf(pairs: Iterable<readonly [string, string]>): Labels {
  const labels = Object.create(null) as Record<string, string>;
  for (const [key, value] of [...pairs].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) labels[key] = value;
  return Object.freeze(labels);
}

/**
 * Validates labels given as a mapping (an API body, a stored record) and returns them as Labels.
 * Only own properties count. `where` names the field in the error (`labels`, `token.labels`).
 */
export function parseLabels(input: unknown, where: string): Labels {
  if (input === undefined || input === null) return labelsOf([]);
  if (typeof input !== 'object' || Array.isArray(input)) {
    throw labelsProblem(where, 'a mapping of label keys to values', describeValue(input));
  }
  const entries = Object.entries(input as Record<string, unknown>);
  if (entries.length > MAX_LABELS) {
    throw labelsProblem(where, `at most ${MAX_LABELS} labels`, `${entries.length}`);
  }
  const pairs: [string, string][] = [];
  for (const [key, value] of entries) {
    if (!LABEL_KEY_PATTERN.test(key)) {
      throw labelsProblem(
        where,
        'label keys of a lowercase letter then up to 62 of a-z 0-9 . _ / -',
        JSON.stringify(key.slice(0, 80)),
      );
    }
    if (typeof value !== 'string' || !LABEL_VALUE_PATTERN.test(value)) {
      throw labelsProblem(
        `${where}.${key}`,
        'a value of 1 to 63 of A-Z a-z 0-9 . _ -',
        typeof value === 'string' ? JSON.stringify(value.slice(0, 80)) : describeValue(value),
      );
    }
    pairs.push([key, value]);
  }
  return labelsOf(pairs);
}

/**
 * Labels from `key=value` words, as a command line gives them (`--label role=web --label zone=a`),
 * validated as parseLabels does. `where` names the flag in the error; a key given twice is refused.
 */
export function parseLabelWords(words: readonly string[], where: string): Labels {
  const mapping = Object.create(null) as Record<string, string>;
  for (const word of words) {
    const eq = word.indexOf('=');
    if (eq <= 0) throw labelsProblem(where, 'key=value, e.g. role=web', JSON.stringify(word.slice(0, 80)));
    const key = word.slice(0, eq);
    if (Object.hasOwn(mapping, key))
      throw labelsProblem(where, 'each label key once', `${JSON.stringify(key.slice(0, 80))} twice`);
    mapping[key] = word.slice(eq + 1);
  }
  return parseLabels(mapping, where);
}

function labelsProblem(where: string, expected: string, got: string): FerryError {
  return new FerryError('FERRY_E_USAGE', `${where}: expected ${expected}, got ${got}`, {
    where,
    expected,
    got,
  });
}
