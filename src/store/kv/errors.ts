import { FerryError } from '../../errors/ferry-error.js';
import type { LeaseId } from './kv.js';

/** The key-value store's errors as users read them, the same from every driver. */

export function invalidRequest(what: string, expected: string, got: string): FerryError {
  return new FerryError('FERRY_E_STORE_REQUEST_INVALID', `${what}: expected ${expected}, got ${got}`, {
    where: what,
    expected,
    got,
  });
}

export function leaseExpired(id: LeaseId, operation: string): FerryError {
  return new FerryError(
    'FERRY_E_STORE_LEASE_EXPIRED',
    `cannot ${operation} with lease ${id}: it expired, was revoked or never existed (its keys are gone); ` +
      'grant a new lease',
    { where: 'lease', expected: 'a live lease', got: id },
  );
}

/** A watch from `fromRevision` of a store whose history now starts at `compactRevision`. */
export function historyCompacted(fromRevision: number, compactRevision: number): FerryError {
  return new FerryError(
    'FERRY_E_STORE_COMPACTED',
    `cannot watch from revision ${fromRevision}: the store compacted its history up to revision ` +
      `${compactRevision}; read the keys again (range) and watch from the revision of that read`,
    { expected: `a revision of at least ${compactRevision - 1}`, got: String(fromRevision), compactRevision },
  );
}
