import { FerryError } from '../errors/ferry-error.js';

const ACTION = /\{\{-?\s*(.*?)\s*-?\}\}/g;
const ARGUMENT = /"((?:[^"\\]|\\.)*)"|`([^`]*)`/g;

/**
 * Renders the subset of Go templates stretcher manifests use: {{ env "NAME" "default" }} and
 * {{ must_env "NAME" }}. Any other action is an error rather than silently left in the YAML.
 */
export function renderManifestTemplate(text: string, env: NodeJS.ProcessEnv = process.env): string {
  return text.replace(ACTION, (_whole, action: string) => {
    const name = /^(\w+)/.exec(action)?.[1] ?? '';
    const args = [...action.slice(name.length).matchAll(ARGUMENT)].map((m) =>
      m[1] !== undefined ? (JSON.parse(`"${m[1]}"`) as string) : (m[2] ?? ''),
    );
    const variable = args[0];
    if (name === 'env' && variable !== undefined && args.length <= 2) return env[variable] ?? args[1] ?? '';
    if (name === 'must_env' && variable !== undefined && args.length === 1) {
      const value = env[variable];
      if (value === undefined) {
        throw new FerryError(
          'FERRY_E_MANIFEST_INVALID',
          `manifest template: environment variable ${variable} is not set (must_env)`,
          {
            where: 'template',
            expected: `${variable} set`,
          },
        );
      }
      return value;
    }
    throw new FerryError(
      'FERRY_E_MANIFEST_INVALID',
      `manifest template: expected {{ env "NAME" "default" }} or {{ must_env "NAME" }}, got {{ ${action} }}`,
      { where: 'template', got: action },
    );
  });
}
