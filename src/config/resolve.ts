import { FerryError } from '../errors/ferry-error.js';
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
      { got: app },
    );
  }
  const name = env ?? config.environments[0]!;
  assertEnvironment(config, name);
  return { app, env: name };
}

/** Checks an environment's name against the config: FERRY_E_ENV_UNKNOWN naming the known ones. */
export function assertEnvironment(config: FerryConfig, env: string): void {
  if (!config.environments.includes(env)) {
    throw new FerryError(
      'FERRY_E_ENV_UNKNOWN',
      `no environment named "${env}" (known: ${config.environments.join(', ')})`,
      { got: env },
    );
  }
}
