import { existsSync } from 'node:fs';
import path from 'node:path';
import { shellWord } from '../lib/shell-word.js';

/** The configuration file a command reads, and how the user named it. */
export interface ConfigFile {
  readonly path: string;
  /** As the user would type it again in this directory: the -c argument, or ferry.yaml. */
  readonly shown: string;
  /** Named by -c (it must exist), rather than found as ./ferry.yaml. */
  readonly explicit: boolean;
}

/** The file every command reads when no -c names one, if the working directory has it. */
export const DEFAULT_CONFIG_FILE = 'ferry.yaml';

/**
 * The configuration of a command: the -c file, else ./ferry.yaml when present, else none (the
 * embedded defaults). `ferry up` and the client commands find it the same way, so a command run
 * where `ferry up` was started talks to that daemon.
 */
export function findConfigFile(flag: string, cwd?: string): ConfigFile;
export function findConfigFile(flag: string | undefined, cwd?: string): ConfigFile | null;
export function findConfigFile(flag: string | undefined, cwd: string = process.cwd()): ConfigFile | null {
  if (flag !== undefined) return { path: path.resolve(cwd, flag), shown: flag, explicit: true };
  const found = path.join(cwd, DEFAULT_CONFIG_FILE);
  return existsSync(found) ? { path: found, shown: DEFAULT_CONFIG_FILE, explicit: false } : null;
}

/** Whether a command run in cwd without -c would read this same file. */
export function isDefaultConfigFile(file: ConfigFile, cwd: string = process.cwd()): boolean {
  return file.path === path.join(cwd, DEFAULT_CONFIG_FILE);
}

/**
 * The -c a printed command needs to read this same file when run in cwd: none for ./ferry.yaml
 * (or no file), else " -c FILE" as the user named it.
 */
export function configFlag(file: ConfigFile | null, cwd: string = process.cwd()): string {
  return file && !isDefaultConfigFile(file, cwd) ? ` -c ${shellWord(file.shown)}` : '';
}
