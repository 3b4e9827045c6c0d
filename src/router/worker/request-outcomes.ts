import type { ReleaseOutcomes, RequestOutcomes } from '../types.js';

/** How a request the router failed after trying an instance ended: 502 (reset) or 504 (timeout). */
export type UpstreamFailureKind = 'reset' | 'timeout';

/**
 * What became of a route's client requests, each counted once when it ends: per release, the
 * responses its instances gave (relayed whole) and the requests that failed on them; for the route,
 * the requests held until the hold timeout (503), those refused as invalid (400) and those whose
 * client left first. Cumulative for the life of the route in this worker; releases are never
 * forgotten (a report over a deployment needs the counts of a release that has retired).
 */
export class RequestOutcomeCounter {
  private readonly releases = new Map<string, ReleaseOutcomes>();
  private held = 0;
  private rejected = 0;
  private abandoned = 0;

  /** An instance of `release` answered `status` and the whole response reached the client. */
  answered(release: string, status: number): void {
    const counts = this.release(release).responses;
    if (status >= 500) counts['5xx'] += 1;
    else if (status >= 400) counts['4xx'] += 1;
    else if (status >= 300) counts['3xx'] += 1;
    else if (status >= 200) counts['2xx'] += 1;
    else counts['1xx'] += 1;
  }

  /** The router answered 502 or 504, or cut a response short, after trying an instance of `release`. */
  failed(release: string, kind: UpstreamFailureKind): void {
    this.release(release)[kind] += 1;
  }

  /** Held while no instance was usable, then answered 503. */
  expired(): void {
    this.held += 1;
  }

  /** Answered 400 by the router: the request cannot be forwarded. */
  refused(): void {
    this.rejected += 1;
  }

  /** The client went away before its answer was complete. */
  gone(): void {
    this.abandoned += 1;
  }

  snapshot(): RequestOutcomes {
    return {
      releases: [...this.releases.values()].map((r) => ({ ...r, responses: { ...r.responses } })),
      held: this.held,
      rejected: this.rejected,
      abandoned: this.abandoned,
    };
  }

  private release(release: string): ReleaseOutcomes {
    let counts = this.releases.get(release);
    if (counts === undefined) {
      counts = {
        release,
        responses: { '1xx': 0, '2xx': 0, '3xx': 0, '4xx': 0, '5xx': 0 },
        reset: 0,
        timeout: 0,
      };
      this.releases.set(release, counts);
    }
    return counts;
  }
}
