import type { Trigger } from './release.js';

/**
 * What started a deployment, a rollout or a release, from the actor string that asked for it:
 * `webhook:<source>:<delivery>` a webhook, `watcher:<kind>:<what>` a watcher, anything else (the
 * API's token, `ferry up`, SIGHUP) a user. The one place that reads an actor's prefix.
 */
export function triggerOf(actor: string): Trigger {
  if (actor.startsWith('webhook:')) return { kind: 'webhook', actor };
  if (actor.startsWith('watcher:')) return { kind: 'watcher', actor };
  return { kind: 'user', actor };
}
