import path from 'node:path';
import type { AppConfig, AppEnvironmentConfig } from '../config/types.js';
import { baseEnvironment, type InstanceSpec, type RunAccount } from '../supervisor/index.js';

/**
 * How an instance of the app runs: in its release's directory under `dir`, with the app's command,
 * the environment's variables and HOST, writing to its own log file, as the app's account. The
 * supervisor adds the clean base environment and the instance's markers; its run digest is made
 * from this.
 */
export function instanceSpec(
  host: {
    readonly app: AppConfig;
    readonly env: string;
    readonly settings: AppEnvironmentConfig;
    /** apps/<app>/<env> under the data directory. */
    readonly dir: string;
    readonly account: RunAccount | null;
  },
  instance: { readonly id: string; readonly version: string; readonly port: number },
): InstanceSpec {
  const { app, settings } = host;
  return {
    id: instance.id,
    app: app.name,
    env: host.env,
    version: instance.version,
    port: instance.port,
    cwd: path.join(host.dir, 'releases', instance.version),
    command: app.run.command,
    args: [...app.run.args],
    envVars: { ...settings.env, HOST: '127.0.0.1' },
    logFile: instanceLogFile(host.dir, instance.id),
    account: host.account,
  };
}

/** Where an instance of the app writes its output (`dir`: apps/<app>/<env>); the file stays once it stopped. */
export function instanceLogFile(dir: string, id: string): string {
  return path.join(dir, 'logs', `${id}.log`);
}

/**
 * A hook's or command check's environment: the clean base, the app's variables, FERRY_*. Never
 * FERRY_HOME with FERRY_INSTANCE_ID: those mark instances, and a hook or a check is not one.
 */
export function processEnvironment(
  run: {
    readonly app: string;
    readonly env: string;
    readonly version: string;
    readonly account: RunAccount | null;
  },
  vars: Readonly<Record<string, string>>,
): Record<string, string> {
  return {
    ...baseEnvironment(run.account),
    ...vars,
    FERRY_APP: run.app,
    FERRY_ENV: run.env,
    FERRY_VERSION: run.version,
  };
}
