import { runsOnThisHost } from '../config/resolve.js';
import type { AppConfig, AppEnvironmentConfig, FerryConfig } from '../config/types.js';
import { appSpecOf } from '../protocol/app-spec.js';
import type { AppOnHost, AppSpec } from '../protocol/desired-state.js';

/** How an app runs on the server's own host: its configuration, and that configuration's digest. */
export interface LocalSpec {
  readonly app: AppConfig;
  readonly env: string;
  readonly settings: AppEnvironmentConfig;
  readonly digest: string;
}

/**
 * How each app runs on the server's own host (`ferry up`), by "app.env". The embedded agent shares
 * the daemon's memory, so its desired state carries only the digest of an app's configuration (the
 * app's secrets stay out of the store) and the agent reads the configuration here, where an
 * enrolled host's agent reads the spec its desired state carries. `ferry apply` sets an app's entry
 * before it edits the app's desired state (the new digest is what makes the agent reconfigure the
 * app); an app that left the file without --prune keeps its last entry, and one found running after
 * a restart gets one rebuilt from its processes. Keyed by a Map: app names come from outside.
 */
export class LocalSpecs {
  private readonly specs = new Map<string, LocalSpec>();

  /** The apps of `config` that run on this host (environments without `hosts:`). */
  static of(config: FerryConfig): LocalSpecs {
    const specs = new LocalSpecs();
    for (const app of Object.values(config.apps))
      for (const env of Object.keys(app.environments)) if (runsOnThisHost(config, env)) specs.set(app, env);
    return specs;
  }

  /** The app's configuration in `env` from now on. */
  set(app: AppConfig, env: string): LocalSpec {
    const spec: LocalSpec = {
      app,
      env,
      settings: app.environments[env]!,
      digest: appSpecOf(app, env).digest,
    };
    this.specs.set(`${app.name}.${env}`, spec);
    return spec;
  }

  delete(app: string, env: string): void {
    this.specs.delete(`${app}.${env}`);
  }

  get(app: string, env: string): LocalSpec | undefined {
    return this.specs.get(`${app}.${env}`);
  }

  has(app: string, env: string): boolean {
    return this.specs.has(`${app}.${env}`);
  }

  all(): LocalSpec[] {
    return [...this.specs.values()];
  }

  /** What the app's desired state carries on this host: the digest alone (no configuration, no secret). */
  specOf(app: string, env: string): AppSpec {
    return { config: {}, digest: this.get(app, env)?.digest ?? 'unknown' };
  }

  /** The embedded agent's reading of a desired entry: the app's configuration here, if it has one. */
  readonly configOf = (desired: Pick<AppOnHost, 'app' | 'env'>): LocalSpec | undefined =>
    this.get(desired.app, desired.env);
}
