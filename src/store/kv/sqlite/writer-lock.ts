import { FerryError } from '../../../errors/ferry-error.js';
import { ProcessLock } from '../../../lib/process-lock.js';

/**
 * Takes the one-writer lock of a store file for this process: a second `ferry server` on the same
 * file fails with FERRY_E_STORE naming the first (the lock dies with its process, never stale).
 */
export async function takeWriterLock(path: string): Promise<ProcessLock> {
  const attempt = await ProcessLock.acquire('kv-store', path, () => ({ pid: process.pid }));
  if (attempt.acquired) return attempt.lock;
  const holder = attempt.holder === null ? 'another process' : `process ${attempt.holder.pid}`;
  throw new FerryError(
    'FERRY_E_STORE',
    `the store ${path} is already open in ${holder}: a SQLite store has one writer; ` +
      'several servers need a shared etcd store (--store etcd://...)',
    { where: path, expected: 'a store no other process has open', got: holder },
  );
}
