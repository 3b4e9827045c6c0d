import type { KvStore } from '../kv/kv.js';
import { KvRecordsStore } from './kv-records-store.js';
import type { InstanceStore, Store } from '../store.js';

/**
 * One Store & InstanceStore from two: the control plane's records (a KvRecordsStore, in etcd) and
 * the host-local instances (the host's SQLite file), as the daemon and the contract suite take
 * them. Closing closes both, the records first.
 */
export function recordsWithInstances(
  records: Store,
  instances: InstanceStore & Pick<Store, 'close'>,
): Store & InstanceStore {
  return {
    upsertRelease: records.upsertRelease.bind(records),
    getRelease: records.getRelease.bind(records),
    listReleases: records.listReleases.bind(records),
    markRelease: records.markRelease.bind(records),
    createDeployment: records.createDeployment.bind(records),
    saveDeployment: records.saveDeployment.bind(records),
    getDeployment: records.getDeployment.bind(records),
    saveServedReport: records.saveServedReport.bind(records),
    getServedReport: records.getServedReport.bind(records),
    activeDeployment: records.activeDeployment.bind(records),
    activeDeployments: records.activeDeployments.bind(records),
    listDeployments: records.listDeployments.bind(records),
    appendEvent: records.appendEvent.bind(records),
    listEvents: records.listEvents.bind(records),
    getCurrent: records.getCurrent.bind(records),
    setCurrent: records.setCurrent.bind(records),
    acquireLock: records.acquireLock.bind(records),
    releaseLock: records.releaseLock.bind(records),
    getLock: records.getLock.bind(records),
    audit: records.audit.bind(records),
    listAudit: records.listAudit.bind(records),
    putInstance: instances.putInstance.bind(instances),
    getInstance: instances.getInstance.bind(instances),
    listInstances: instances.listInstances.bind(instances),
    deleteInstance: instances.deleteInstance.bind(instances),
    close: async () => {
      try {
        await records.close();
      } finally {
        await instances.close();
      }
    },
  };
}

/**
 * The daemon's store when the control plane's key-value store is shared (etcd): its records in
 * that KV (left open on close: the daemon closes it after), its instances in the host's file.
 */
export function controlRecordsOn(
  kv: KvStore,
  instances: InstanceStore & Pick<Store, 'close'>,
): Store & InstanceStore {
  return recordsWithInstances(new KvRecordsStore(kv, { closeKv: false }), instances);
}
