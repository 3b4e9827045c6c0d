import { catalog, type ErrorCode } from './catalog.js';

/** Structured details of an error: what was wrong, what was expected, what was received. */
export interface ErrorDetails {
  /** Where the problem is: a config path, a file, an app/env, a URL without credentials. */
  readonly where?: string;
  readonly expected?: string;
  readonly got?: string;
  /** Any other structured fields an API client may rely on. */
  readonly [key: string]: unknown;
}

/**
 * The one error type Ferry throws on purpose. Each has a stable code from the catalog; it becomes an
 * HTTP status only at the API edge and an exit code only in the CLI's top-level catch.
 */
/**
 * Marks every FerryError, whichever copy of this module made it: the CLI's bundle
 * (scripts/bundle-cli.mjs) has its own copy, and `ferry up` runs the daemon's code beside it.
 */
const BRAND = Symbol.for('ferry.FerryError');

export class FerryError extends Error {
  readonly code: ErrorCode;
  readonly details: ErrorDetails;

  /** `instanceof FerryError` holds for a FerryError of any copy of this module. */
  static override [Symbol.hasInstance](value: unknown): boolean {
    return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[BRAND] === true;
  }

  constructor(code: ErrorCode, message: string, details: ErrorDetails = {}, options?: { cause?: unknown }) {
    super(message, options);
    Object.defineProperty(this, BRAND, { value: true });
    this.name = 'FerryError';
    this.code = code;
    this.details = details;
  }

  get httpStatus(): number {
    return catalog[this.code].http;
  }

  get exitCode(): 1 | 2 {
    return catalog[this.code].exit;
  }

  toJSON(): { code: ErrorCode; message: string; details: ErrorDetails } {
    return { code: this.code, message: this.message, details: this.details };
  }
}

export function isFerryError(error: unknown, code?: ErrorCode): error is FerryError {
  return error instanceof FerryError && (code === undefined || error.code === code);
}

/** Builds the conventional "what: expected X, got Y" message. */
export function expectedGot(what: string, expected: string, got: unknown): string {
  return `${what}: expected ${expected}, got ${describeValue(got)}`;
}

export function describeValue(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint')
    return String(value);
  if (value === null) return 'null';
  if (typeof value !== 'object') return typeof value;
  if (Array.isArray(value)) return 'a list';
  return 'a mapping';
}

/** The message of any thrown value, for logs and evidence. */
export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
