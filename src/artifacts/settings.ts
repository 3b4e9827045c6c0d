import { FerryError } from '../errors/ferry-error.js';
import { DEFAULT_FETCH, DEFAULT_LIMITS, type ExtractLimits, type InstallReleaseOptions } from './types.js';

/** installRelease's numeric options, validated, with defaults filled in. */
export interface InstallSettings {
  limits: ExtractLimits;
  timeoutMs: number;
  retries: number;
  retryWaitMs: number;
  retryMaxWaitMs: number;
  cacheMaxBytes: number;
  /** 0: unlimited. */
  maxBytesPerSecond: number;
  randomDelayMs: number;
}

export function resolveInstallSettings(options: InstallReleaseOptions): InstallSettings {
  const problems: string[] = [];
  const pick = (
    name: string,
    value: number | undefined,
    fallback: number,
    min: number,
    max = Number.MAX_SAFE_INTEGER,
  ): number => {
    if (value === undefined) return fallback;
    if (!Number.isSafeInteger(value) || value < min || value > max) {
      problems.push(`${name}: expected an integer from ${min} to ${max}, got ${String(value)}`);
    }
    return value;
  };
  const settings: InstallSettings = {
    limits: {
      maxBytes: pick('limits.maxBytes', options.limits?.maxBytes, DEFAULT_LIMITS.maxBytes, 1),
      maxEntries: pick('limits.maxEntries', options.limits?.maxEntries, DEFAULT_LIMITS.maxEntries, 1),
    },
    // Timers cannot wait longer than 2^31-1 ms (about 24 days).
    timeoutMs: pick('timeoutMs', options.timeoutMs, DEFAULT_FETCH.timeoutMs, 1, 2 ** 31 - 1),
    retries: pick('retries', options.retries, DEFAULT_FETCH.retries, 0),
    retryWaitMs: pick('retryWaitMs', options.retryWaitMs, DEFAULT_FETCH.retryWaitMs, 0),
    retryMaxWaitMs: pick('retryMaxWaitMs', options.retryMaxWaitMs, DEFAULT_FETCH.retryMaxWaitMs, 0),
    cacheMaxBytes: pick('cacheMaxBytes', options.cacheMaxBytes, DEFAULT_FETCH.cacheMaxBytes, 0),
    maxBytesPerSecond: pick('maxBytesPerSecond', options.maxBytesPerSecond, 0, 1),
    randomDelayMs: pick('randomDelayMs', options.randomDelayMs, 0, 0, 2 ** 31 - 1),
  };
  if (problems.length > 0) {
    throw new FerryError('FERRY_E_USAGE', `install options: ${problems.join('; ')}`, { problems });
  }
  return settings;
}
