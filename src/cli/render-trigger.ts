import type { TriggerView } from '../api/types.js';

/** Delivery ids longer than this are cut (with …) in tables: enough to find the delivery. */
const SHOWN_DELIVERY = 8;

/**
 * What started a deployment or brought a release, in a few words: `user api`, `user ci` (a
 * token's name), `webhook github 7f3a9c1e…` (the delivery id, shortened), `watcher github o/r`.
 * `-` when the daemon did not keep it (a deployment from before Ferry recorded triggers).
 */
export function describeTrigger(trigger: TriggerView | null | undefined): string {
  if (!trigger) return '-';
  const { kind, actor } = trigger;
  const words = actor.split(':');
  // The actor repeats the kind (webhook:github:<id>, watcher:github:o/r) or names a token (token:ci).
  if (words[0] === kind || (kind === 'user' && words[0] === 'token')) words.shift();
  if (kind === 'webhook' && words.length > 1) {
    const id = words.slice(1).join(':');
    return `webhook ${words[0]} ${id.length > SHOWN_DELIVERY + 1 ? `${id.slice(0, SHOWN_DELIVERY)}…` : id}`;
  }
  const what = kind === 'watcher' ? words.join(' ') : words.join(':');
  return what === '' ? kind : `${kind} ${what}`;
}
