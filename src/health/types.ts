import type { RunAccount } from '../supervisor/account.js';

/** Active health checks: what to probe, how often, and when an instance counts as healthy. */

export type HealthCheckSpec =
  | {
      readonly kind: 'http';
      readonly path: string;
      readonly expectStatus: readonly number[];
      readonly host?: string;
    }
  | { readonly kind: 'tcp' }
  | { readonly kind: 'command'; readonly command: string };

export interface HealthSpec {
  readonly check: HealthCheckSpec;
  readonly intervalMs: number;
  readonly timeoutMs: number;
  readonly healthyThreshold: number;
  readonly unhealthyThreshold: number;
  /** Failures within this long after the start do not count (successes do). */
  readonly startPeriodMs: number;
}

export interface ProbeTarget {
  readonly host: string;
  readonly port: number;
  readonly cwd: string;
  /** The whole environment of a command check (PORT is added): never the daemon's own. */
  readonly env: Readonly<Record<string, string>>;
  /** A command check runs as this user and group (run.user). */
  readonly account?: RunAccount | null;
  /** Values hidden from the output a failing command check quotes. */
  readonly secrets?: readonly string[];
}

export interface ProbeResult {
  readonly ok: boolean;
  /** e.g. `GET /healthz -> 200`, `GET /healthz -> 503 "db down"`, `connect ECONNREFUSED 127.0.0.1:4001`. */
  readonly detail: string;
  readonly at: number;
  readonly durationMs: number;
}

/** starting: not yet proven; healthy: gets traffic; unhealthy: failed its threshold. */
export const HEALTH_STATUSES = ['starting', 'healthy', 'unhealthy'] as const;
export type HealthStatus = (typeof HEALTH_STATUSES)[number];

export interface HealthState {
  readonly status: HealthStatus;
  readonly startedAt: number;
  readonly successes: number;
  readonly failures: number;
}
