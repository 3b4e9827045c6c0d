import { type AllRecords, readAllRecords } from './all-records.js';
import Database from 'better-sqlite3';
import type { ServedReportRecord } from '../../engine/served-report.js';
import type { DeploymentState } from '../../engine/types.js';
import { FerryError } from '../../errors/ferry-error.js';
import type {
  AuditEntry,
  DeploymentEvent,
  InstanceRecord,
  InstanceStore,
  LockRecord,
  NewDeploymentEvent,
  NewRelease,
  ReleaseRecord,
  Store,
  Verdict,
} from '../store.js';
import {
  deploymentInProgress,
  duplicateDeployment,
  isDuplicateDeploymentId,
  sqliteCode,
  storeClosed,
  toStoreError,
  unknownDeployment,
} from './errors.js';
import { assertIntact, openError } from './integrity.js';
import { migrate } from './migrations.js';
import * as rows from './rows.js';
import { FilteredQueries, prepareStatements, type Statements } from './statements.js';

/** How long a writer waits for another connection's write lock before failing with SQLITE_BUSY. */
const BUSY_TIMEOUT_MS = 5_000;

/**
 * Opens (creating if needed) the SQLite state store at `path`, or an in-memory one for ':memory:',
 * checks its integrity and brings its schema up to date. Fails with FERRY_E_STORE_DAMAGED when the
 * file is not a database or has damaged pages, FERRY_E_DISK_FULL when the disk is full, and
 * FERRY_E_STORE when it cannot be opened otherwise or was written by a newer Ferry.
 */
export function openSqliteStore(path: string): SqliteStore {
  let db: Database.Database | undefined;
  try {
    db = new Database(path);
    db.pragma('journal_mode = WAL');
    // WAL + NORMAL already survives a kill -9 of the daemon (a commit is in the WAL file when it
    // returns); only power loss or a kernel crash could drop the last commits. FULL fsyncs the WAL on
    // every commit so that cannot happen either: the runtime acts on a saved state right after the
    // save returns (agents on other hosts start or stop processes, traffic moves), and a state
    // rolled back after a reboot would contradict what the world already did. Ferry commits a few
    // times per second at most, so the fsync costs nothing that matters.
    db.pragma('synchronous = FULL');
    db.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
    db.pragma('foreign_keys = ON');
    assertIntact(db, path);
    migrate(db, path);
    return new SqliteStore(db, path);
  } catch (error) {
    db?.close();
    throw openError(error, path);
  }
}

/** The embedded Store driver: one better-sqlite3 connection; every method's work is synchronous. */
export class SqliteStore implements Store, InstanceStore {
  #lifecycle: 'open' | 'closed' = 'open';
  readonly #db: Database.Database;
  readonly #path: string;
  readonly #sql: Statements;
  readonly #filtered: FilteredQueries;

  /** Use openSqliteStore, which configures and migrates the connection first. */
  constructor(db: Database.Database, path: string) {
    this.#db = db;
    this.#path = path;
    this.#sql = prepareStatements(db);
    this.#filtered = new FilteredQueries(db);
  }

  upsertRelease(release: NewRelease): Promise<ReleaseRecord> {
    return this.#run('upsertRelease', () => {
      const { app, env, version, artifactUrl, checksum, createdAt } = release;
      const row = this.#sql.upsertRelease.get({
        app,
        env,
        version,
        artifact_url: artifactUrl,
        checksum,
        created_at: createdAt,
      });
      if (row === undefined) throw new Error('upsert returned no row');
      return rows.toRelease(row);
    });
  }

  getRelease(app: string, env: string, version: string): Promise<ReleaseRecord | undefined> {
    return this.#run('getRelease', () => {
      const row = this.#sql.getRelease.get({ app, env, version });
      return row && rows.toRelease(row);
    });
  }

  listReleases(app: string, env: string): Promise<ReleaseRecord[]> {
    return this.#run('listReleases', () => this.#sql.listReleases.all({ app, env }).map(rows.toRelease));
  }

  markRelease(
    app: string,
    env: string,
    version: string,
    verdict: Verdict,
    reason: string,
    at: number,
  ): Promise<void> {
    return this.#run('markRelease', () => {
      const { changes } = this.#sql.markRelease.run({ app, env, version, status: verdict, reason, at });
      if (changes === 0) {
        throw new FerryError(
          'FERRY_E_RELEASE_UNKNOWN',
          `cannot mark ${app} ${version} in ${env} ${verdict}: no such release`,
          {
            where: `${app}/${env}`,
            got: version,
          },
        );
      }
    });
  }

  createDeployment(state: DeploymentState): Promise<void> {
    return this.#run('createDeployment', () => {
      try {
        this.#sql.insertDeployment.run(rows.deploymentParams(state));
      } catch (error) {
        throw this.#explainConflict(error, state, 'start');
      }
    });
  }

  saveDeployment(state: DeploymentState): Promise<void> {
    return this.#run('saveDeployment', () => {
      let changes: number;
      try {
        ({ changes } = this.#sql.updateDeployment.run(rows.deploymentParams(state)));
      } catch (error) {
        throw this.#explainConflict(error, state, 'reactivate');
      }
      if (changes === 0) throw unknownDeployment(state.id, 'save');
    });
  }

  getDeployment(id: string): Promise<DeploymentState | undefined> {
    return this.#run('getDeployment', () => {
      const row = this.#sql.getDeployment.get({ id });
      return row && rows.toDeployment(row);
    });
  }

  saveServedReport(id: string, record: ServedReportRecord): Promise<void> {
    return this.#run('saveServedReport', () => {
      const { changes } = this.#sql.saveServedReport.run({ id, report: JSON.stringify(record) });
      if (changes === 0) throw unknownDeployment(id, 'save the report of');
    });
  }

  getServedReport(id: string): Promise<ServedReportRecord | undefined> {
    return this.#run('getServedReport', () => {
      const text = this.#sql.getServedReport.get({ id })?.served_report;
      return text == null ? undefined : (JSON.parse(text) as ServedReportRecord);
    });
  }

  activeDeployment(app: string, env: string): Promise<DeploymentState | undefined> {
    return this.#run('activeDeployment', () => {
      const row = this.#sql.activeDeployment.get({ app, env });
      return row && rows.toDeployment(row);
    });
  }

  activeDeployments(): Promise<DeploymentState[]> {
    return this.#run('activeDeployments', () => this.#sql.activeDeployments.all().map(rows.toDeployment));
  }

  listDeployments(filter: { app?: string; env?: string; limit?: number }): Promise<DeploymentState[]> {
    return this.#run('listDeployments', () =>
      this.#filtered
        .all<rows.StateRow>(
          'deployments',
          'state',
          { app: filter.app, env: filter.env },
          'created_at DESC, ord DESC',
          filter.limit,
        )
        .map(rows.toDeployment),
    );
  }

  appendEvent(event: NewDeploymentEvent): Promise<DeploymentEvent> {
    return this.#run('appendEvent', () => {
      const { deploymentId, at, type, message, data } = event;
      // Immediate: the seq read and the insert must not interleave with another writer's.
      const append = this.#db.transaction(() => {
        const seq = this.#sql.nextEventSeq.get({ id: deploymentId })?.next ?? 1;
        const row = { deployment_id: deploymentId, seq, at, type, message, data: rows.jsonOrNull(data) };
        this.#sql.insertEvent.run(row);
        return rows.toEvent(row);
      });
      try {
        return append.immediate();
      } catch (error) {
        if (sqliteCode(error) === 'SQLITE_CONSTRAINT_FOREIGNKEY')
          throw unknownDeployment(deploymentId, 'log to');
        throw error;
      }
    });
  }

  listEvents(deploymentId: string, afterSeq = 0): Promise<DeploymentEvent[]> {
    return this.#run('listEvents', () =>
      this.#sql.listEvents.all({ id: deploymentId, after: afterSeq }).map(rows.toEvent),
    );
  }

  putInstance(instance: InstanceRecord): Promise<void> {
    return this.#run('putInstance', () => void this.#sql.putInstance.run(rows.instanceParams(instance)));
  }

  getInstance(id: string): Promise<InstanceRecord | undefined> {
    return this.#run('getInstance', () => {
      const row = this.#sql.getInstance.get({ id });
      return row && rows.toInstance(row);
    });
  }

  listInstances(filter: { app?: string; env?: string; version?: string } = {}): Promise<InstanceRecord[]> {
    return this.#run('listInstances', () =>
      this.#filtered
        .all<rows.InstanceRow>(
          'instances',
          '*',
          { app: filter.app, env: filter.env, version: filter.version },
          'created_at, id',
        )
        .map(rows.toInstance),
    );
  }

  deleteInstance(id: string): Promise<void> {
    return this.#run('deleteInstance', () => void this.#sql.deleteInstance.run({ id }));
  }

  getCurrent(app: string, env: string): Promise<string | undefined> {
    return this.#run('getCurrent', () => this.#sql.getCurrent.get({ app, env })?.version);
  }

  setCurrent(app: string, env: string, version: string): Promise<void> {
    return this.#run('setCurrent', () => void this.#sql.setCurrent.run({ app, env, version }));
  }

  acquireLock(lock: LockRecord): Promise<boolean> {
    return this.#run('acquireLock', () => {
      const { key, owner, reason, expiresAt, createdAt } = lock;
      const row = { key, owner, reason, expires_at: expiresAt, created_at: createdAt };
      return this.#sql.acquireLock.run(row).changes > 0;
    });
  }

  releaseLock(key: string, owner: string): Promise<void> {
    return this.#run('releaseLock', () => void this.#sql.releaseLock.run({ key, owner }));
  }

  getLock(key: string, now: number): Promise<LockRecord | undefined> {
    return this.#run('getLock', () => {
      const row = this.#sql.getLock.get({ key, now });
      return row && rows.toLock(row);
    });
  }

  audit(entry: AuditEntry): Promise<void> {
    return this.#run('audit', () => {
      const { at, actor, action, target, detail } = entry;
      this.#sql.insertAudit.run({ at, actor, action, target, detail: rows.jsonOrNull(detail) });
    });
  }

  listAudit(limit: number): Promise<AuditEntry[]> {
    return this.#run('listAudit', () => this.#sql.listAudit.all({ limit }).map(rows.toAudit));
  }

  /** Every control-plane record, to carry them to another store (see kv-records/migrate-sqlite.ts). */
  allRecords(): Promise<AllRecords> {
    return this.#run('allRecords', () => readAllRecords(this.#db));
  }

  /** Whether this file's control-plane records were moved to the key-value store (and when). */
  recordsMoved(): Promise<boolean> {
    return this.#run(
      'recordsMoved',
      () => this.#db.prepare('SELECT 1 FROM records_moved').get() !== undefined,
    );
  }

  /** Notes that the records were moved: they are never to be read again. Noting twice is harmless. */
  markRecordsMoved(at: number): Promise<void> {
    return this.#run('markRecordsMoved', () => {
      this.#db.prepare('INSERT OR IGNORE INTO records_moved (id, at) VALUES (1, ?)').run(at);
    });
  }

  /** Closes the connection (checkpointing the WAL). Closing twice is harmless. */
  close(): Promise<void> {
    if (this.#lifecycle === 'closed') return Promise.resolve();
    this.#lifecycle = 'closed';
    return this.#run('close', () => void this.#db.close(), true);
  }

  /** Runs synchronous work as a promise, with every failure turned into a FerryError. */
  #run<T>(operation: string, work: () => T, closing = false): Promise<T> {
    try {
      if (this.#lifecycle !== 'open' && !closing) throw storeClosed(this.#path, operation);
      return Promise.resolve(work());
    } catch (error) {
      return Promise.reject(toStoreError(error, this.#path, operation));
    }
  }

  /** Turns constraint violations of a deployment write into the errors users see. */
  #explainConflict(error: unknown, state: DeploymentState, verb: 'start' | 'reactivate'): unknown {
    if (isDuplicateDeploymentId(error)) return duplicateDeployment(state.id);
    if (sqliteCode(error) !== 'SQLITE_CONSTRAINT_UNIQUE') return error;
    const active = this.#sql.activeDeployment.get({ app: state.app, env: state.env });
    return deploymentInProgress(state, verb, active && rows.toDeployment(active));
  }
}
