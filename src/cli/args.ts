import { InvalidArgumentError } from 'commander';
import { parseTrafficPercent, trafficPercentProblem } from '../config/traffic-percent.js';
import { parseDuration } from '../lib/duration.js';

/** Commander argument parsers that name the flag and what they got. */
export function positiveInt(flag: string) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < 1)
      throw new InvalidArgumentError(`${flag}: expected a whole number >= 1, got "${value}"`);
    return n;
  };
}

/** A duration as ferry.yaml writes them ("30m", "1h", "7d"), sent as written: the daemon checks its bounds. */
export function durationText(flag: string) {
  return (value: string): string => {
    if (parseDuration(value) !== undefined) return value.trim();
    throw new InvalidArgumentError(`${flag}: expected a duration like "30m", "1h" or "7d", got "${value}"`);
  };
}

const STRATEGIES = ['blue-green', 'canary', 'all-at-once'] as const;
export type StrategyArg = (typeof STRATEGIES)[number];

export function strategy(value: string): StrategyArg {
  if ((STRATEGIES as readonly string[]).includes(value)) return value as StrategyArg;
  throw new InvalidArgumentError(`--strategy: expected one of ${STRATEGIES.join(', ')}, got "${value}"`);
}

/** A share of traffic, parsed as ferry.yaml's step weights are: "30%" or 30, above 0 and at most 100. */
export function trafficPercent(flag: string, zeroHint: string) {
  return (value: string): number => {
    const parsed = parseTrafficPercent(value);
    if (parsed !== undefined) return parsed;
    const problem = trafficPercentProblem(value);
    const hint = /^\s*0+(\.0*)?\s*%?\s*$/.test(value) ? `; ${zeroHint}` : '';
    throw new InvalidArgumentError(`${flag}: ${problem}${hint}`);
  };
}

/** A lock's TTL, in Ferry's duration syntax ("2h", "3d", "1h30m"); passed on as written, the daemon checks its range. */
export function lockTtl(value: string): string {
  if (parseDuration(value) !== undefined) return value.trim();
  throw new InvalidArgumentError(`--ttl: expected a duration like 2h or 3d (1s to 7d), got "${value}"`);
}
