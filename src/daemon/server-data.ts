import { existsSync } from 'node:fs';
import path from 'node:path';
import { createToken, readTokenFile } from '../api/discovery.js';
import type { FerryConfig } from '../config/types.js';
import type { Logger } from '../lib/logger.js';
import { resolveRealPath } from '../lib/real-path.js';
import type { KvStore } from '../store/kv/kv.js';
import {
  type MigratedRecords,
  migrateSqliteRecords,
  migratedTotal,
} from '../store/kv-records/migrate-sqlite.js';
import { controlRecordsOn } from '../store/kv-records/with-instances.js';
import { parseStoreUrl, type StoreLocation } from '../store/kv/store-url.js';
import { openSqliteStore } from '../store/sqlite/sqlite-store.js';
import type { InstanceStore, Store } from '../store/store.js';
import { adoptRunning, type AdoptedApp } from './adopt-running.js';
import { openControlKv, resetControlKv } from './control-kv.js';
import { inspectDataDir, prepareDataDir, withDataDirWrites } from './data-dir.js';
import {
  chooseStartMode,
  findEarlierState,
  isStoreNew,
  type EarlierState,
  type Recovery,
  type StartMode,
} from './earlier-state.js';
import { DaemonLock } from './lock.js';
import type { DaemonPaths } from './paths.js';
import { resetDataDir } from './reset.js';

/**
 * The server's data in its directory: the directory's lock, the API token, the store and the
 * key-value store, and how this start goes on them (fresh, a restart, --adopt, --reset). The
 * daemon closes each itself, in its undo order.
 */
export class ServerData {
  lock: DaemonLock | null = null;
  token = '';
  /** The control plane's records (on the key-value store) and this host's instances (its SQLite file). */
  store: (Store & InstanceStore) | null = null;
  /** The control plane's key-value store: its records, the hosts' desired states, rollouts, locks. */
  kv: KvStore | null = null;
  private earlier: EarlierState | null = null;
  /** What this start moved from the SQLite tables of an older Ferry (null: nothing to move). */
  private moved: MigratedRecords | null = null;

  constructor(
    private readonly paths: DaemonPaths,
    /** The configuration the daemon started with. */
    private readonly config: FerryConfig,
    /** How a start on a lost store goes (`ferry up --adopt` / `--reset`); refused otherwise. */
    private readonly recovery: Recovery | undefined,
  ) {}

  /**
   * Takes the data directory's lock (one daemon per directory), checks the directory without
   * changing anything (Ferry's, writable, room on disk, a usable token file), then makes it Ferry's.
   */
  async claim(): Promise<void> {
    const { home, lockFile } = this.paths;
    const realHome = resolveRealPath(home);
    this.lock = await DaemonLock.acquire(home, lockFile);
    const existing = inspectDataDir(home);
    const token = existing === 'ferry' ? readTokenFile(home) : undefined;
    prepareDataDir(home, realHome);
    withDataDirWrites(home, () => {
      this.lock!.writeRecord();
      this.token = token ?? createToken(home);
    });
  }

  /**
   * Opens the store (its integrity is checked at open) and decides how to start. A new store on a
   * data directory that shows earlier state is refused before anything changes, unless the user
   * chose --adopt or --reset; a missing store file is not even created until then.
   */
  async open(): Promise<StartMode> {
    const { db } = this.paths;
    const url = this.config.server?.store ?? null;
    const location = this.storeLocation();
    // The control plane's records are on its key-value store: etcd (server.store) or a SQLite file
    // (control.db); ferry.db keeps this host's instances (and, from an older Ferry, records to move).
    const onEtcd = location.driver === 'etcd';
    // ferry.db first: a damaged file is refused at its open, before control.db is created.
    let instances = !onEtcd && existsSync(db) ? openSqliteStore(db) : null;
    try {
      let mode: StartMode | undefined;
      // No records yet, nor an older Ferry's to move: decided before any file is created, so a
      // refused start (a lost control.db while apps run) creates none.
      if (!onEtcd && !existsSync(location.path) && (instances === null || (await instances.recordsMoved()))) {
        mode = await this.chooseMode(true);
      }
      this.kv = await openControlKv(this.paths, url);
      instances ??= openSqliteStore(db);
      this.store = controlRecordsOn(this.kv, instances);
      if (!onEtcd) this.moved = await migrateSqliteRecords(this.kv, instances, Date.now());
      mode ??= await this.chooseMode(await isStoreNew(this.store, this.config));
      return mode;
    } catch (error) {
      // What this open took is given back: the daemon only closes what it was handed.
      if (this.store === null) await instances?.close();
      throw error;
    }
  }

  /** Where the control plane's key-value store is: `server.store`, or control.db in the data directory. */
  private storeLocation(): StoreLocation {
    const url = this.config.server?.store ?? null;
    return url === null ? { driver: 'sqlite', path: this.paths.kv } : parseStoreUrl(url, 'server.store');
  }

  /** The control plane's records as messages name them: their SQLite file, or etcd's members. */
  private storeName(): string {
    const location = this.storeLocation();
    if (location.driver === 'sqlite') return location.path;
    return `etcd://${location.endpoints.join(',')}${location.prefix}`;
  }

  private async chooseMode(storeNew: boolean): Promise<StartMode> {
    // Earlier state only matters to a new store: a store with state is the usual restart.
    this.earlier = storeNew ? await findEarlierState(this.paths) : null;
    return chooseStartMode({
      storeNew,
      earlier: this.earlier,
      recovery: this.recovery,
      paths: this.paths,
      store: this.storeName(),
    });
  }

  /**
   * --adopt records what runs as the store's state (returned); --reset stops it. Each leaves a
   * trace in the store, as a fresh start does, so that a start killed before its first deployment
   * is resumed next time rather than taken for a lost store.
   */
  async applyStartMode(mode: StartMode, logger: Logger): Promise<AdoptedApp[]> {
    if (this.moved !== null && migratedTotal(this.moved) > 0) {
      logger.info(
        { moved: this.moved },
        `moved ${migratedTotal(this.moved)} records from ${path.basename(this.paths.db)} to ${path.basename(this.storeName())}`,
      );
    }
    const earlier = this.earlier;
    if (mode === 'fresh') {
      await this.store!.audit({
        at: Date.now(),
        actor: 'ferry up',
        action: 'init',
        target: 'data directory',
      });
    } else if (mode === 'adopt' && earlier) {
      return adoptRunning({
        store: this.store!,
        config: this.config,
        processes: earlier.processes,
        routes: earlier.routes,
        now: Date.now(),
      });
    } else if (mode === 'reset') {
      await resetDataDir({ paths: this.paths, store: this.store!, now: Date.now(), logger });
      await resetControlKv(this.kv!, this.paths);
    }
    return [];
  }
}
