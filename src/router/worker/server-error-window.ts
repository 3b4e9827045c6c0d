const BUCKET_MS = 1000;
const BUCKETS = 10;

/**
 * The share of 5xx responses of one backend over the last 10 seconds, in one-second buckets, so the
 * passive health check can eject a backend that answers but mostly fails.
 */
export class ServerErrorWindow {
  private readonly responses = new Uint32Array(BUCKETS);
  private readonly serverErrors = new Uint32Array(BUCKETS);
  private readonly bucketStart = new Float64Array(BUCKETS).fill(-1);

  constructor(
    private readonly minResponses = 20,
    private readonly failingRatio = 0.5,
  ) {}

  record(isServerError: boolean, now: number): void {
    const second = Math.floor(now / BUCKET_MS);
    const index = second % BUCKETS;
    if (this.bucketStart[index] !== second) {
      this.bucketStart[index] = second;
      this.responses[index] = 0;
      this.serverErrors[index] = 0;
    }
    this.responses[index]! += 1;
    if (isServerError) this.serverErrors[index]! += 1;
  }

  /** True when the window holds enough responses and at least the failing share of them are 5xx. */
  isFailing(now: number): boolean {
    const second = Math.floor(now / BUCKET_MS);
    let responses = 0;
    let serverErrors = 0;
    for (let i = 0; i < BUCKETS; i++) {
      const start = this.bucketStart[i]!;
      if (start < 0 || second - start >= BUCKETS) continue;
      responses += this.responses[i]!;
      serverErrors += this.serverErrors[i]!;
    }
    return responses >= this.minResponses && serverErrors >= responses * this.failingRatio;
  }

  /** Forgets the window, so a backend back from ejection is judged on fresh responses. */
  reset(): void {
    this.bucketStart.fill(-1);
  }
}
