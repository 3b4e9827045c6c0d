import { parseChecksum } from '../artifacts/checksum.js';
import { describeSchemes, isArtifactScheme } from '../artifacts/sources/schemes.js';
import { isFerryError } from '../errors/ferry-error.js';
import { formatDuration } from '../lib/duration.js';
import { redactUrl } from '../lib/redact.js';
import type { ConfigProblem } from './compile.js';
import type { RawApp } from './schema.js';

/**
 * Checks of an app's settings that the schema cannot make field by field: URLs Ferry can fetch,
 * checksums it can verify, and settings that contradict each other. Each problem names its path.
 */
export function checkApp(where: string, raw: RawApp, urls: { url: string; checksumsUrl: string | null }) {
  const problems: ConfigProblem[] = [];
  const add = (path: string, message: string) => problems.push({ path: `${where}.${path}`, message });
  const urlProblem = artifactUrlProblem(urls.url);
  if (urlProblem !== null) add('artifact.url', urlProblem);
  const sumsProblem = urls.checksumsUrl === null ? null : artifactUrlProblem(urls.checksumsUrl);
  if (sumsProblem !== null) add('artifact.checksums', sumsProblem);
  const checksum = raw.artifact.checksum;
  const checksumProblem =
    checksum === undefined ? null : checksumFormatProblem(checksum, raw.artifact.allow_weak_checksums);
  if (checksumProblem !== null) add('artifact.checksum', checksumProblem);

  // Canary weights only go up: a step at or below the one before it would take traffic back.
  const steps = raw.strategy.steps ?? [];
  steps.forEach((step, index) => {
    const before = steps[index - 1];
    if (before !== undefined && step.weight <= before.weight)
      add(
        `strategy.steps.${index}.weight`,
        `expected more than the step before (${before.weight}%), got ${step.weight}%`,
      );
  });

  const { health } = raw;
  const needed = health.healthy_threshold * health.interval;
  if (health.deadline < needed)
    add(
      'health.deadline',
      `expected at least healthy_threshold × interval (${health.healthy_threshold} × ${formatDuration(health.interval)} = ${formatDuration(needed)}) for a new instance to ever pass its checks, got ${formatDuration(health.deadline)}`,
    );

  // Node refuses a header timeout above the whole request's; the router would quietly cut it.
  const { router } = raw;
  if (router.request_timeout > 0 && router.header_timeout > router.request_timeout)
    add(
      'router.header_timeout',
      `expected at most router.request_timeout (${formatDuration(router.request_timeout)}), got ${formatDuration(router.header_timeout)}`,
    );
  return problems;
}

/**
 * Why an artifact (or checksums) URL cannot be fetched, or null: it must parse (with {version}
 * filled), be of a scheme Ferry has a source for, and name a host, or a bucket and a key.
 */
export function artifactUrlProblem(url: string): string | null {
  let parsed: URL;
  try {
    parsed = new URL(url.replaceAll('{version}', '0'));
  } catch {
    // The text may hold credentials: it is not quoted.
    return `expected an absolute URL (https://host/app-{version}.tar.gz) or a file path, got text that is not one`;
  }
  const shown = JSON.stringify(redactUrl(url));
  if (!isArtifactScheme(parsed.protocol))
    return `expected a URL of ${describeSchemes()} (or a file path), got ${shown}`;
  if ((parsed.protocol === 'http:' || parsed.protocol === 'https:') && parsed.hostname === '')
    return `expected a host in ${parsed.protocol}//host/path, got ${shown}`;
  if (
    (parsed.protocol === 's3:' || parsed.protocol === 'gs:') &&
    (parsed.hostname === '' || parsed.pathname.length < 2)
  )
    return `expected ${parsed.protocol}//bucket/key, got ${shown}`;
  return null;
}

/** Why a checksum cannot be verified, or null; one made from {version} is judged at install. */
function checksumFormatProblem(checksum: string, allowWeak: boolean): string | null {
  if (checksum.includes('{version}')) return null;
  try {
    const { algorithm } = parseChecksum(checksum);
    if (!allowWeak && (algorithm === 'md5' || algorithm === 'sha1'))
      return `expected a sha256 or sha512 checksum (${algorithm} collisions can be forged; allow_weak_checksums: true accepts it), got ${algorithm}`;
    return null;
  } catch (error) {
    if (!isFerryError(error, 'FERRY_E_CHECKSUM_INVALID')) throw error;
    return `expected ${String(error.details.expected)}, got ${JSON.stringify(error.details.got)}`;
  }
}
