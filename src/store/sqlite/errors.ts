import Database from 'better-sqlite3';
import type { DeploymentState } from '../../engine/types.js';
import { FerryError, messageOf } from '../../errors/ferry-error.js';

/** How the SQLite driver's failures read to users: every one is a FerryError with a catalog code. */

export function sqliteCode(error: unknown): string | undefined {
  return error instanceof Database.SqliteError ? error.code : undefined;
}

export function isDuplicateDeploymentId(error: unknown): boolean {
  return sqliteCode(error) === 'SQLITE_CONSTRAINT_UNIQUE' && messageOf(error).includes('deployments.id');
}

/** A violation of the one-active-deployment index, naming the deployment that holds app+env. */
export function deploymentInProgress(
  state: DeploymentState,
  verb: 'start' | 'reactivate',
  active: DeploymentState | undefined,
): FerryError {
  const holder = active
    ? `deployment ${active.id} (${active.from ?? 'nothing'} -> ${active.to}, ${active.status})`
    : 'another deployment';
  return new FerryError(
    'FERRY_E_DEPLOYMENT_IN_PROGRESS',
    `cannot ${verb} deployment ${state.id} of ${state.app} in ${state.env}: ${holder} is still active; ` +
      'wait for it to finish or abort it',
    { where: `${state.app}/${state.env}`, app: state.app, env: state.env, activeDeploymentId: active?.id },
  );
}

export function duplicateDeployment(id: string): FerryError {
  return new FerryError('FERRY_E_ILLEGAL_STATE', `cannot create deployment ${id}: it already exists`, {
    got: id,
  });
}

export function unknownDeployment(id: string, operation: string): FerryError {
  return new FerryError(
    'FERRY_E_DEPLOYMENT_UNKNOWN',
    `cannot ${operation} deployment ${id}: no such deployment`,
    {
      got: id,
    },
  );
}

export function storeClosed(path: string, operation: string): FerryError {
  return new FerryError('FERRY_E_ILLEGAL_STATE', `cannot ${operation}: the store at ${path} is closed`, {
    where: path,
    expected: 'open',
    got: 'closed',
  });
}

/** Wraps anything that is not already a FerryError (SQLITE_BUSY, I/O errors, corruption) as FERRY_E_STORE. */
export function toStoreError(error: unknown, path: string, operation: string): FerryError {
  if (error instanceof FerryError) return error;
  const code = sqliteCode(error);
  return new FerryError(
    'FERRY_E_STORE',
    `the state store at ${path} failed to ${operation}: ${messageOf(error)}`,
    { where: path, ...(code === undefined ? {} : { sqliteCode: code }) },
    { cause: error },
  );
}
