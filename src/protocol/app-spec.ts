import { createHash } from 'node:crypto';
import type { AppConfig, AppEnvironmentConfig } from '../config/types.js';
import { FerryError } from '../errors/ferry-error.js';
import type { AppSpec } from './desired-state.js';

/**
 * How an app runs on a host, as the desired state carries it: the server's compiled configuration
 * of the app with its environments cut to this one. Compiled, not ferry.yaml's text: the server
 * read the file, its environment variables and its relative paths, which a host does not have.
 * Plain JSON (no functions, no classes); its digest changes when the configuration does (`ferry
 * apply`), which is when the agent reconfigures the app's host. It holds the app's secrets (its
 * variables, the artifact's credentials): only a host that runs the app is sent it. What only the
 * server uses stays out: the webhooks' secrets, the release watchers' tokens, the auto-deploy
 * policies (a change of them is no change on a host).
 */
export function appSpecOf(app: AppConfig, env: string): AppSpec {
  const settings = Object.hasOwn(app.environments, env) ? app.environments[env] : undefined;
  if (settings === undefined)
    throw new FerryError('FERRY_E_INTERNAL', `app ${app.name} has no environment ${env}`);
  const { triggers: _triggers, sources: _sources, ...onHosts } = app;
  const text = JSON.stringify({ ...onHosts, environments: { [env]: { ...settings, autoDeploy: null } } });
  const digest = createHash('sha256').update(text).digest('hex').slice(0, 16);
  return { config: JSON.parse(text) as Record<string, unknown>, digest };
}

/**
 * The app's configuration on an agent, from the spec its desired state carries. The server compiled
 * and checked it with the one config schema; what is checked here is only that the document is for
 * this app and environment and has the parts an agent reads (a desired state from another Ferry
 * version fails here, named, rather than half-way through a start).
 */
export function appOfSpec(
  spec: AppSpec,
  app: string,
  env: string,
): { readonly app: AppConfig; readonly settings: AppEnvironmentConfig } {
  const config = spec.config as Partial<AppConfig>;
  const problems: string[] = [];
  if (config.name !== app)
    problems.push(`name: expected ${JSON.stringify(app)}, got ${JSON.stringify(config.name)}`);
  for (const part of ['artifact', 'run', 'health', 'router', 'hooks'] as const)
    if (typeof config[part] !== 'object' || config[part] === null) problems.push(`${part}: missing`);
  const environments = config.environments;
  const settings =
    typeof environments === 'object' && environments !== null && Object.hasOwn(environments, env)
      ? environments[env]
      : undefined;
  if (settings === undefined) problems.push(`environments.${env}: missing`);
  if (problems.length > 0)
    throw new FerryError(
      'FERRY_E_PROTOCOL',
      `the desired state's spec of ${app}.${env} cannot be run: ${problems.join('; ')}`,
      { where: `${app}.${env}`, problems },
    );
  // What the server keeps to itself (appSpecOf) reads as none. Written out, not imported from the
  // config's schema modules, which the agent does not load.
  const triggers: AppConfig['triggers'] = { generic: null, github: null, registry: null };
  const sources: AppConfig['sources'] = { github: null, http: null };
  return { app: { ...config, triggers, sources } as AppConfig, settings: settings! };
}
