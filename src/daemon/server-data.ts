import { existsSync } from 'node:fs';
import { createToken, readTokenFile } from '../api/discovery.js';
import type { FerryConfig } from '../config/types.js';
import type { Logger } from '../lib/logger.js';
import { resolveRealPath } from '../lib/real-path.js';
import type { KvStore } from '../store/kv/kv.js';
import { controlRecordsOn } from '../store/kv-records/with-instances.js';
import { parseStoreUrl } from '../store/kv/store-url.js';
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
  /** In `ferry up` one SQLite file holds the control plane's records and this host's instance records. */
  store: (Store & InstanceStore) | null = null;
  /** The control plane's key-value store (the hosts' desired states). */
  kv: KvStore | null = null;
  private earlier: EarlierState | null = null;

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
    // etcd (server.store) keeps the control plane's records too; the file keeps host-local instances.
    const onEtcd = url !== null && parseStoreUrl(url, 'server.store').driver === 'etcd';
    if (onEtcd) this.kv = await openControlKv(this.paths, url);
    const open = () => (this.kv ? controlRecordsOn(this.kv, openSqliteStore(db)) : openSqliteStore(db));
    let mode: StartMode;
    if (!existsSync(db) && !onEtcd) {
      mode = await this.chooseMode(true);
      this.store = open();
    } else {
      this.store = open();
      mode = await this.chooseMode(await isStoreNew(this.store, this.config));
    }
    // Only once the start is decided: a refused start creates no file.
    this.kv ??= await openControlKv(this.paths, url);
    return mode;
  }

  private async chooseMode(storeNew: boolean): Promise<StartMode> {
    // Earlier state only matters to a new store: a store with state is the usual restart.
    this.earlier = storeNew ? await findEarlierState(this.paths) : null;
    return chooseStartMode({
      storeNew,
      earlier: this.earlier,
      recovery: this.recovery,
      paths: this.paths,
    });
  }

  /**
   * --adopt records what runs as the store's state (returned); --reset stops it. Each leaves a
   * trace in the store, as a fresh start does, so that a start killed before its first deployment
   * is resumed next time rather than taken for a lost store.
   */
  async applyStartMode(mode: StartMode, logger: Logger): Promise<AdoptedApp[]> {
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
