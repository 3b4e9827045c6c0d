import { FerryError } from '../errors/ferry-error.js';
import { closest } from '../lib/closest.js';
import type { FerryConfig } from './types.js';

/** Checks an app and environment name against the config; the environment defaults to the first one. */
export function resolveAppEnv(
  config: FerryConfig,
  app: string,
  env: string | undefined,
): { app: string; env: string } {
  if (!Object.hasOwn(config.apps, app)) {
    const known = Object.keys(config.apps);
    throw new FerryError(
      'FERRY_E_APP_UNKNOWN',
      `no app named "${app}" is configured (known: ${known.join(', ') || 'none'})`,
      { got: app, known },
    );
  }
  const name = env ?? config.environments[0]!;
  assertEnvironment(config, name);
  return { app, env: name };
}

/**
 * Throws FERRY_E_ENV_UNKNOWN naming the environment and the known ones unless the config declares
 * it: a filter by an environment that does not exist is an error, not an empty answer.
 */
export function assertEnvironment(config: FerryConfig, env: string): void {
  if (config.environments.includes(env)) return;
  const known = [...config.environments];
  const near = closest(env, known);
  throw new FerryError(
    'FERRY_E_ENV_UNKNOWN',
    `no environment named ${JSON.stringify(env)} (known: ${known.join(', ')})${near === null ? '' : `; did you mean "${near}"?`}`,
    { got: env, known },
  );
}

/**
 * True when the environment runs on this host (the server's own, or `ferry up`'s): it selects no
 * enrolled hosts by labels. An environment with `hosts:` runs on the agents it selects.
 */
export function runsOnThisHost(config: FerryConfig, env: string): boolean {
  return !config.environmentHosts.has(env);
}
