import { describeValue } from '../errors/ferry-error.js';

/**
 * A percent of traffic, as a canary step's `weight` in ferry.yaml and `ferry canary --weight` read
 * it: 10, "10" or "10%" -> 10, above 0 and at most 100. Free of the schema's dependencies, so the
 * CLI parses its flag with the very same rule.
 */
export function parseTrafficPercent(value: unknown): number | undefined {
  const text = typeof value === 'string' ? value.trim().replace(/%$/, '') : value;
  const n = typeof text === 'string' && text !== '' ? Number(text) : text;
  if (typeof n !== 'number' || !Number.isFinite(n) || n <= 0 || n > 100) return undefined;
  return n;
}

/** The problem with a value parseTrafficPercent refused. */
export function trafficPercentProblem(value: unknown): string {
  return `expected a percentage of traffic like "10%" (1-100), got ${describeValue(value)}`;
}
