import os from 'node:os';
import path from 'node:path';

/** FERRY_HOME, else ~/.ferry: the data directory when no ferry.yaml names one. */
export function defaultFerryHome(env: NodeJS.ProcessEnv = process.env): string {
  return env.FERRY_HOME ? path.resolve(env.FERRY_HOME) : path.join(os.homedir(), '.ferry');
}

/**
 * The data directory of a configuration, the same for `ferry up` and every other command:
 * FERRY_HOME (which --home sets) wins, then data_dir (relative to the file's directory), then
 * ~/.ferry.
 */
export function resolveDataDir(dataDir: string | undefined, baseDir: string, env: NodeJS.ProcessEnv): string {
  if (env.FERRY_HOME) return path.resolve(env.FERRY_HOME);
  return dataDir ? path.resolve(baseDir, dataDir) : defaultFerryHome(env);
}
