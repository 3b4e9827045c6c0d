import { describe, expect, it } from 'vitest';
import type { Deployment, ServedReport } from '../api/types.js';
import { renderServedReport, renderServedSummary } from './render-report.js';

const none = { serverError: 0, reset: 0, timeout: 0, held: 0 };
const at = (s: number) => Date.UTC(2026, 0, 1, 10, 41, s);

function deployment(served: ServedReport | null | undefined): Deployment {
  return { id: 'd-1', to: '1.1.0', served } as unknown as Deployment;
}

const clean: ServedReport = {
  since: at(0),
  until: at(30),
  final: true,
  served: 41_220,
  failed: 0,
  failures: none,
  rejected: 0,
  abandoned: 0,
  releases: [
    { version: '1.0.0', served: 20_110, failed: 0, failures: none },
    { version: '1.1.0', served: 21_110, failed: 0, failures: none },
  ],
  steps: [
    {
      phase: 'shifting',
      step: 0,
      weight: 10,
      since: at(0),
      until: at(10),
      served: 1_000,
      failed: 0,
      failures: none,
      rejected: 0,
      abandoned: 0,
      releases: [
        { version: '1.1.0', served: 100, failed: 0, failures: none },
        { version: '1.0.0', served: 900, failed: 0, failures: none },
      ],
    },
    {
      phase: 'retiring',
      step: null,
      weight: 100,
      since: at(10),
      until: at(30),
      served: 40_220,
      failed: 0,
      failures: none,
      rejected: 0,
      abandoned: 0,
      releases: [],
    },
  ],
  routerRestarts: 0,
  error: null,
};

describe('the served-request report in the CLI', () => {
  it('history and status: one line, "served 41,220 requests, 0 failed"', () => {
    expect(renderServedSummary(deployment(clean))).toEqual(['    served 41,220 requests, 0 failed']);
    expect(renderServedSummary(deployment(undefined))).toEqual([]);
  });

  it('names each kind of failure, what was not counted, and a report still running', () => {
    const failing: ServedReport = {
      ...clean,
      final: false,
      failed: 15,
      failures: { serverError: 9, reset: 1, timeout: 2, held: 3 },
      rejected: 4,
      abandoned: 5,
      routerRestarts: 1,
      error: "the router's counters could not be read: gone",
    };
    expect(renderServedSummary(deployment(failing))).toEqual([
      '    served 41,220 requests, 15 failed: 9 5xx from the app, 1 upstream error (502), 2 upstream timeouts (504), 3 held then 503 (no healthy instance) (4 refused as invalid (400); 5 left by their client before the answer; the router restarted 1 time(s): requests since the reading before missing; so far)',
      "    report: the router's counters could not be read: gone",
    ]);
  });

  it('show: per release and per step, with each step span and its share', () => {
    const text = renderServedReport(deployment(clean)).join('\n');
    expect(text).toContain('served 41,220 requests, 0 failed\n  per release:');
    expect(text).toMatch(/ {4}1\.0\.0 +served 20,110 requests, 0 failed/);
    expect(text).toMatch(
      /canary step 1 at 10% +10:41:00\.000-10:41:10\.000 {2}served 1,000 requests, 0 failed {2}\[1\.1\.0 100, 1\.0\.0 900\]/,
    );
    expect(text).toMatch(
      /retiring \(100% on 1\.1\.0\) +10:41:10\.000-10:41:30\.000 {2}served 40,220 requests/,
    );
    expect(renderServedReport(deployment(null))).toEqual([
      '',
      'served: no report (a deployment from before Ferry kept them)',
    ]);
  });
});
