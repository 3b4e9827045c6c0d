import type { Clock } from '../lib/clock.js';

interface Bucket {
  tokens: number;
  at: number;
}

/** A token bucket per source address: `requests` at once, refilled evenly over `perMs`. */
export class RateLimit {
  private readonly buckets = new Map<string, Bucket>();

  constructor(
    private readonly opts: {
      readonly clock: Clock;
      readonly requests: number;
      readonly perMs: number;
      /** Addresses tracked at most; the least recently seen go first. */
      readonly maxAddresses?: number;
    },
  ) {}

  /** Takes one token for the address; false when its bucket is empty (the request is refused). */
  take(address: string): boolean {
    const { clock, requests, perMs } = this.opts;
    const now = clock.now();
    const bucket = this.buckets.get(address) ?? { tokens: requests, at: now };
    this.buckets.delete(address);
    bucket.tokens = Math.min(requests, bucket.tokens + ((now - bucket.at) * requests) / perMs);
    bucket.at = now;
    const allowed = bucket.tokens >= 1;
    if (allowed) bucket.tokens -= 1;
    this.buckets.set(address, bucket);
    const max = this.opts.maxAddresses ?? 10_000;
    for (const key of this.buckets.keys()) {
      if (this.buckets.size <= max) break;
      this.buckets.delete(key);
    }
    return allowed;
  }
}
