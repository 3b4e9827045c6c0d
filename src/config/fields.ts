import { isIP } from 'node:net';
import { z } from 'zod';
import { LABEL_KEY_PATTERN, LABEL_VALUE_PATTERN, labelsOf } from '../lib/labels.js';
import { parseDuration } from '../lib/duration.js';
import { NAME_PATTERN } from '../lib/names.js';
import { versionProblem } from '../lib/release-version.js';
import { parseSize } from '../lib/size.js';
import { describeValue } from '../errors/ferry-error.js';
import { parseListen, type ListenAddress } from './listen-address.js';
import { parseTrafficPercent, trafficPercentProblem } from './traffic-percent.js';

export { parseListen, type ListenAddress };

/** Field types with human units, each failing with `expected ..., got ...`. */

export const duration = z.unknown().transform((value, ctx) => {
  const ms = typeof value === 'string' ? parseDuration(value) : undefined;
  if (ms === undefined) {
    ctx.addIssue({ code: 'custom', message: `expected a duration like "5s", got ${describeValue(value)}` });
    return z.NEVER;
  }
  return ms;
});

/** "10M", "2GiB" or 1048576 -> bytes (binary units). */
export const size = (what: string) =>
  z.unknown().transform((value, ctx) => {
    const bytes =
      typeof value === 'number' && Number.isSafeInteger(value) && value > 0
        ? value
        : typeof value === 'string'
          ? parseSize(value)
          : undefined;
    if (bytes === undefined || bytes < 1) {
      ctx.addIssue({
        code: 'custom',
        message: `expected ${what} like "10M" or "2GiB", got ${describeValue(value)}`,
      });
      return z.NEVER;
    }
    return bytes;
  });

/** "5%", "0.05" or 0.05 -> 0.05. */
export const ratio = z.unknown().transform((value, ctx) => {
  const parsed = parseRatio(value);
  if (parsed === undefined) {
    ctx.addIssue({
      code: 'custom',
      message: `expected a percentage like "5%" (0-100%), got ${describeValue(value)}`,
    });
    return z.NEVER;
  }
  return parsed;
});

function parseRatio(value: unknown): number | undefined {
  let n: number | undefined;
  if (typeof value === 'number') n = value;
  else if (typeof value === 'string' && /^\d+(\.\d+)?%$/.test(value.trim()))
    n = Number(value.trim().slice(0, -1)) / 100;
  return n !== undefined && n >= 0 && n <= 1 ? n : undefined;
}

/** A percent of traffic: 10, "10%" -> 10. */
export const percent = z.unknown().transform((value, ctx) => {
  const n = parseTrafficPercent(value);
  if (n === undefined) {
    ctx.addIssue({ code: 'custom', message: trafficPercentProblem(value) });
    return z.NEVER;
  }
  return n;
});

/** A whole number >= min, named in the message: "expected a number of retries (a whole number >= 0)". */
const wholeNumber = (what: string, min: number) =>
  z.unknown().transform((value, ctx) => {
    if (typeof value !== 'number' || !Number.isInteger(value) || value < min) {
      ctx.addIssue({
        code: 'custom',
        message: `expected ${what} (a whole number >= ${min}), got ${describeValue(value)}`,
      });
      return z.NEVER;
    }
    return value;
  });

export const count = (what: string) => wholeNumber(what, 0);
export const positiveInt = (what: string) => wholeNumber(what, 1);

/** "127.0.0.1:8080", "8080", ":8080" or 8080 -> { host, port } (host defaults to 127.0.0.1). */
export const listen = z.unknown().transform((value, ctx): ListenAddress => {
  const parsed = parseListen(value);
  if (!parsed) {
    ctx.addIssue({
      code: 'custom',
      message: `expected an address like "127.0.0.1:8080" or a port, got ${describeValue(value)}`,
    });
    return z.NEVER;
  }
  return parsed;
});

/** A name usable in URLs, file names and route names. */
export const name = (what: string) =>
  z.string().regex(NAME_PATTERN, `expected ${what} of lowercase letters, digits, "-" or "_"`);

export const shellLines = z.array(z.string().min(1, 'expected a shell command'));

export const envVars = z.record(z.string(), z.union([z.string(), z.number(), z.boolean()]).transform(String));

/** A release version (the one validator, shared with the API and the artifact pipeline). */
export const version = z.string().superRefine((value, ctx) => {
  const problem = versionProblem(value);
  if (problem !== null) ctx.addIssue({ code: 'custom', message: problem });
});

/** A user or group: a name as useradd accepts it, or a numeric id. */
export const account = (what: string) =>
  z
    .union([z.string(), z.number()])
    .transform(String)
    .refine((value) => /^(\d+|[a-z_][a-z0-9_-]{0,31}\$?)$/.test(value), {
      message: `expected ${what}`,
    });

/** An IP address or a CIDR block: "10.0.0.0/8", "127.0.0.1", "::1", "fd00::/8". */
export const ipOrCidr = z.string().transform((value, ctx) => {
  const parsed = parseIpOrCidr(value);
  if (parsed === undefined) {
    ctx.addIssue({
      code: 'custom',
      message: `expected an IP address or a CIDR block like "10.0.0.0/8", got ${describeValue(value)}`,
    });
    return z.NEVER;
  }
  return parsed;
});

export interface IpRange {
  readonly address: string;
  readonly prefix: number;
  readonly family: 'ipv4' | 'ipv6';
}

export function parseIpOrCidr(value: string): IpRange | undefined {
  const [address = '', prefixText] = value.trim().split('/');
  const version = isIP(address);
  if (version === 0) return undefined;
  const max = version === 4 ? 32 : 128;
  const prefix = prefixText === undefined ? max : /^\d{1,3}$/.test(prefixText) ? Number(prefixText) : NaN;
  if (!Number.isInteger(prefix) || prefix < 0 || prefix > max) return undefined;
  return { address, prefix, family: version === 4 ? 'ipv4' : 'ipv6' };
}

/**
 * Which hosts: labels every selected host has (`role: web`). Keys and values as hosts' labels are
 * (src/lib/labels.ts); at least one.
 */
export const hostSelector = z
  .record(
    z
      .string()
      .regex(LABEL_KEY_PATTERN, 'expected a label key: lowercase letters, digits, ".", "_", "/", "-"'),
    z.string().regex(LABEL_VALUE_PATTERN, 'expected a label value: 1-63 letters, digits, ".", "_", "-"'),
  )
  .refine((labels) => Object.keys(labels).length > 0, 'expected at least one label, like {role: web}')
  .transform((labels) => labelsOf(Object.entries(labels)));
