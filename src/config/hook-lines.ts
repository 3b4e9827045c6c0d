import type { AppConfig } from './types.js';

/** The names of an app's hooks, as ferry.yaml and the hooks' FERRY_HOOK call them. */
export const HOOK_NAMES = ['before_start', 'after_switch', 'success', 'failure'] as const;

/** The lines of one of the app's hooks, by its name in ferry.yaml; undefined for a name it has not. */
export function appHookLines(app: AppConfig, hook: string): readonly string[] | undefined {
  switch (hook) {
    case 'before_start':
      return app.hooks.beforeStart;
    case 'after_switch':
      return app.hooks.afterSwitch;
    case 'success':
      return app.hooks.success;
    case 'failure':
      return app.hooks.failure;
    default:
      return undefined;
  }
}
