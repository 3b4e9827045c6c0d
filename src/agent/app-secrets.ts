import type { AppConfig } from '../config/types.js';
import { isSecretName, urlSecrets } from '../lib/redact.js';

/**
 * The secret values an app's evidence (hook output, command check output, log tails) must never
 * quote: Ferry's own (the API token), the artifact's header values and URL credentials, and the
 * values of its environment variables whose names look secret (TOKEN, SECRET, PASSWORD, KEY, AUTH...).
 */
export function appSecrets(
  app: AppConfig,
  envVars: Readonly<Record<string, string>>,
  known: readonly string[],
): string[] {
  const secrets = [...known];
  for (const value of Object.values(app.artifact.headers)) {
    // "Bearer <token>": the credential alone may be quoted too.
    secrets.push(value, ...value.split(/\s+/).slice(1));
  }
  for (const url of [app.artifact.url, app.artifact.checksumsUrl]) if (url) secrets.push(...urlSecrets(url));
  for (const [name, value] of Object.entries(envVars)) if (isSecretName(name)) secrets.push(value);
  return [...new Set(secrets)].filter((secret) => secret.trim() !== '');
}
