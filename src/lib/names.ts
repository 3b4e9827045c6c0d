/**
 * The shape of an app or environment name: usable in URLs, file names and route names. One pattern
 * for the config schema and for the log's redaction, which keeps an environment's name but hides a
 * map of variables under the same key.
 */
export const NAME_PATTERN = /^[a-z0-9][a-z0-9_-]{0,62}$/;

/** True for a string shaped like an app or environment name. */
export function isName(value: unknown): value is string {
  return typeof value === 'string' && NAME_PATTERN.test(value);
}
