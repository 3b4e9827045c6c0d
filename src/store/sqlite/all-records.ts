import type Database from 'better-sqlite3';
import type { ServedReportRecord } from '../../engine/served-report.js';
import type { DeploymentState } from '../../engine/types.js';
import type { AuditEntry, DeploymentEvent, LockRecord, ReleaseRecord } from '../store.js';
import * as rows from './rows.js';

/** One deployment with everything recorded about it. */
export interface DeploymentRecords {
  readonly state: DeploymentState;
  readonly events: readonly DeploymentEvent[];
  readonly servedReport: ServedReportRecord | undefined;
}

/**
 * Every control-plane record of a SQLite store (not the host-local instances), each list in
 * insertion order, which is what breaks ties between records of one time.
 */
export interface AllRecords {
  readonly releases: readonly ReleaseRecord[];
  readonly deployments: readonly DeploymentRecords[];
  readonly current: readonly { app: string; env: string; version: string }[];
  readonly locks: readonly LockRecord[];
  readonly audit: readonly AuditEntry[];
}

/** Reads every record in one read transaction, so they are of one moment. */
export function readAllRecords(db: Database.Database): AllRecords {
  return db.transaction(() => {
    const events = new Map<string, DeploymentEvent[]>();
    const eventRows = db
      .prepare<[], rows.EventRow>('SELECT * FROM deployment_events ORDER BY deployment_id, seq')
      .all();
    for (const row of eventRows) {
      const list = events.get(row.deployment_id) ?? [];
      list.push(rows.toEvent(row));
      events.set(row.deployment_id, list);
    }
    const deploymentRows = db
      .prepare<[], { id: string; state: string; served_report: string | null }>(
        'SELECT id, state, served_report FROM deployments ORDER BY ord',
      )
      .all();
    return {
      releases: db
        .prepare<[], rows.ReleaseRow>('SELECT * FROM releases ORDER BY id')
        .all()
        .map(rows.toRelease),
      deployments: deploymentRows.map((row) => ({
        state: rows.toDeployment(row),
        events: events.get(row.id) ?? [],
        servedReport:
          row.served_report === null ? undefined : (JSON.parse(row.served_report) as ServedReportRecord),
      })),
      current: db
        .prepare<[], { app: string; env: string; version: string }>('SELECT app, env, version FROM current')
        .all(),
      locks: db.prepare<[], rows.LockRow>('SELECT * FROM locks ORDER BY key').all().map(rows.toLock),
      audit: db.prepare<[], rows.AuditRow>('SELECT * FROM audit ORDER BY id').all().map(rows.toAudit),
    };
  })();
}
