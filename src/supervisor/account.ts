import { readFileSync } from 'node:fs';
import type { FerryConfig } from '../config/types.js';
import { FerryError } from '../errors/ferry-error.js';

/** The user an app's processes (instances, hooks, command checks) run as; null runs them as Ferry. */
export interface RunAccount {
  readonly uid: number;
  readonly gid: number;
  /** The user's name (USER, LOGNAME), or the uid when /etc/passwd does not list it. */
  readonly name: string;
  /** HOME for its processes. */
  readonly home: string;
}

export interface AccountFiles {
  readonly passwd: string;
  readonly group: string;
}

const SYSTEM_FILES: AccountFiles = { passwd: '/etc/passwd', group: '/etc/group' };

/**
 * Resolves `run.user` and `run.group` (names or ids) from /etc/passwd and /etc/group. The group
 * defaults to the user's primary group. Running as another user needs root: when Ferry is not root
 * and the account is not its own, the error names the field (`where` is e.g. `apps.web.run`).
 * Returns null when nothing is to change (no user, or Ferry's own account).
 */
export function resolveRunAccount(
  run: { readonly user: string | null; readonly group: string | null },
  where: string,
  opts: { readonly uid?: number; readonly gid?: number; readonly files?: AccountFiles } = {},
): RunAccount | null {
  if (run.user === null) return null;
  const files = opts.files ?? SYSTEM_FILES;
  const users = readEntries(files.passwd, `${where}.user`);
  const entry = findEntry(users, run.user);
  if (!entry && !/^\d+$/.test(run.user)) {
    throw configProblem(`${where}.user`, `expected a user listed in ${files.passwd}, got "${run.user}"`);
  }
  const uid = entry ? Number(entry[2]) : Number(run.user);
  let gid: number;
  if (run.group !== null) {
    const group = findEntry(readEntries(files.group, `${where}.group`), run.group);
    if (!group && !/^\d+$/.test(run.group)) {
      throw configProblem(`${where}.group`, `expected a group listed in ${files.group}, got "${run.group}"`);
    }
    gid = group ? Number(group[2]) : Number(run.group);
  } else if (entry) {
    gid = Number(entry[3]);
  } else {
    throw configProblem(
      `${where}.group`,
      `expected a group for uid ${uid}, which ${files.passwd} does not list, got nothing`,
    );
  }
  const self = { uid: opts.uid ?? process.getuid?.() ?? 0, gid: opts.gid ?? process.getgid?.() ?? 0 };
  if (self.uid !== 0) {
    if (uid === self.uid && gid === self.gid) return null;
    const field = uid !== self.uid ? `${where}.user` : `${where}.group`;
    throw configProblem(
      field,
      `expected Ferry to run as root to run processes as ${uid !== self.uid ? `user ${run.user} (uid ${uid})` : `group ${run.group ?? gid} (gid ${gid})`}, got uid ${self.uid}`,
    );
  }
  return { uid, gid, name: entry?.[0] ?? String(uid), home: entry?.[5] || '/' };
}

/** The options that make child_process.spawn run a process as the account (no supplementary groups). */
export function accountSpawnOptions(account: RunAccount | null | undefined): { uid?: number; gid?: number } {
  // libuv drops the supplementary groups (setgroups(0)) when a root parent sets uid.
  return account ? { uid: account.uid, gid: account.gid } : {};
}

function readEntries(file: string, where: string): string[][] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new FerryError(
      'FERRY_E_CONFIG_INVALID',
      `${where}: cannot read ${file}: ${(error as Error).message}`,
      { where, problems: [{ path: where, message: `cannot read ${file}` }] },
      { cause: error },
    );
  }
  return text
    .split('\n')
    .filter((line) => line !== '' && !line.startsWith('#'))
    .map((line) => line.split(':'));
}

/** By name first; a numeric value also matches an id. */
function findEntry(entries: string[][], nameOrId: string): string[] | undefined {
  return (
    entries.find((e) => e[0] === nameOrId) ??
    (/^\d+$/.test(nameOrId) ? entries.find((e) => e[2] === nameOrId) : undefined)
  );
}

function configProblem(path: string, message: string): FerryError {
  return new FerryError('FERRY_E_CONFIG_INVALID', `${path}: ${message}`, {
    where: path,
    problems: [{ path, message }],
  });
}

/** The account of every app with run.user, by app name; errors name the app's field. */
export function resolveAppAccounts(config: FerryConfig): Map<string, RunAccount> {
  const accounts = new Map<string, RunAccount>();
  for (const [name, app] of Object.entries(config.apps)) {
    const account = resolveRunAccount(app.run, `apps.${name}.run`);
    if (account) accounts.set(name, account);
  }
  return accounts;
}
