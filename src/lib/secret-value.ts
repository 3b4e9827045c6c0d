import { inspect } from 'node:util';
import { REDACTED } from './redact.js';

/**
 * A secret held in memory (a webhook's signing key): JSON, string conversion and util.inspect show
 * `***`, so a configuration printed (`ferry config check --json`), logged or returned never carries
 * it; `reveal()` is the one way to the value.
 */
export class SecretValue {
  readonly #value: string;

  constructor(value: string) {
    this.#value = value;
  }

  /** The value itself, for the one place that uses it. */
  reveal(): string {
    return this.#value;
  }

  toJSON(): string {
    return REDACTED;
  }

  toString(): string {
    return REDACTED;
  }

  [inspect.custom](): string {
    return REDACTED;
  }
}
