/**
 * A host's name as an agent enrolls with it (by default its hostname): 1 to 253 letters, digits,
 * dots, hyphens and underscores, not starting with a dot or a hyphen. Host names come from outside
 * (an agent's request), so code keys them in Maps or encoded store paths, never as properties of a
 * plain object (`__proto__` and `constructor` are valid names).
 */
export const HOST_NAME_PATTERN = /^[A-Za-z0-9_][A-Za-z0-9._-]{0,252}$/;

/** True for a string shaped like a host name. */
export function isHostName(value: unknown): value is string {
  return typeof value === 'string' && HOST_NAME_PATTERN.test(value);
}
