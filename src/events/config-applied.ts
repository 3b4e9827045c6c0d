import type { CONFIG_SOURCES } from '../api/wire/events.js';
import type { FerryConfig } from '../config/types.js';
import type { EventSink } from './publisher.js';

/**
 * Publishes that a configuration now runs: at the daemon's start, after `ferry apply` or a reload.
 * `apps` names the apps it changed (every app at a start); `summary` says how, when there is more
 * to say than their names (a plan's one-line summary).
 */
export function publishConfigApplied(
  events: EventSink,
  config: FerryConfig,
  source: (typeof CONFIG_SOURCES)[number],
  opts: { readonly apps?: readonly string[]; readonly summary?: string } = {},
): void {
  const apps = [...(opts.apps ?? Object.keys(config.apps))];
  const where = config.configPath ?? 'the built-in defaults';
  const what = apps.length === 0 ? 'no apps' : `apps ${apps.join(', ')}`;
  events.publish({
    kind: 'config',
    app: null,
    env: null,
    source,
    path: config.configPath,
    apps,
    message: `configuration from ${where} applied (${source}): ${opts.summary ?? what}`,
  });
}
