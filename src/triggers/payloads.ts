import { z } from 'zod';
import { FerryError } from '../errors/ferry-error.js';
import { versionProblem } from '../lib/release-version.js';

/** What a delivery asks for: a release of an app, in an environment (the app's first when null). */
export interface ReleaseRequest {
  readonly version: string;
  readonly env: string | null;
  /** Shown in the audit log (never a secret). */
  readonly detail: Readonly<Record<string, unknown>>;
}

/** The JSON body of a delivery, or FERRY_E_WEBHOOK_PAYLOAD. */
export function parseJson(body: Buffer): unknown {
  try {
    return JSON.parse(body.toString('utf8')) as unknown;
  } catch {
    throw payloadError('expected a JSON object, got text that is not valid JSON');
  }
}

function payloadError(message: string): FerryError {
  return new FerryError('FERRY_E_WEBHOOK_PAYLOAD', `webhook payload: ${message}`);
}

function parseWith<T>(schema: z.ZodType<T>, value: unknown, what: string): T {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  const at = issue && issue.path.length > 0 ? `${issue.path.join('.')}: ` : '';
  throw payloadError(`expected ${what}; ${at}${issue?.message ?? 'invalid'}`);
}

/** A version from outside: the one validator of versions. */
function releaseVersion(version: string, where: string): string {
  const problem = versionProblem(version);
  if (problem !== null) throw payloadError(`${where}: ${problem}`);
  return version;
}

const genericBody = z.strictObject({
  version: z.string().min(1),
  env: z.string().min(1).optional(),
  changelog: z.string().max(10_000).optional(),
});

/** `POST /hooks/generic/:app`: `{version, env?, changelog?}`. */
export function parseGeneric(value: unknown): ReleaseRequest {
  if (typeof value === 'object' && value !== null && ('url' in value || 'checksum' in value))
    throw payloadError(
      "url and checksum are not taken yet: the release is fetched from the app's artifact.url (and checked by its checksum settings) with {version}",
    );
  const body = parseWith(genericBody, value, 'a JSON object {version, env?, changelog?}');
  return {
    version: releaseVersion(body.version, 'version'),
    env: body.env ?? null,
    detail: body.changelog !== undefined ? { changelog: body.changelog.slice(0, 500) } : {},
  };
}

const githubRelease = z.object({
  action: z.string(),
  release: z.object({
    tag_name: z.string().min(1),
    draft: z.boolean().default(false),
    prerelease: z.boolean().default(false),
    html_url: z.string().optional(),
  }),
  repository: z.object({ full_name: z.string().min(1) }),
});

/** The repository a GitHub delivery is about, which names the app (and its secret). */
export function githubRepository(value: unknown): string {
  return parseWith(
    z.object({ repository: z.object({ full_name: z.string().min(1) }) }),
    value,
    'a GitHub payload with repository.full_name',
  ).repository.full_name;
}

/** Why a GitHub release event deploys nothing, or the release it deploys (its tag, a leading v stripped). */
export function parseGithubRelease(
  value: unknown,
  opts: { readonly prereleases: boolean },
): { readonly ignored: string } | { readonly request: Omit<ReleaseRequest, 'env'> } {
  const event = parseWith(githubRelease, value, 'a GitHub release payload');
  const { release } = event;
  if (event.action !== 'published')
    return { ignored: `release action "${event.action}" (only "published" deploys)` };
  if (release.draft) return { ignored: 'a draft release' };
  if (release.prerelease && !opts.prereleases)
    return { ignored: 'a prerelease (apps.<app>.triggers.github.prereleases is off)' };
  const version = releaseVersion(release.tag_name.replace(/^v(?=\d)/, ''), 'release.tag_name');
  return {
    request: {
      version,
      detail: { tag: release.tag_name, ...(release.html_url ? { url: release.html_url } : {}) },
    },
  };
}

const registryPush = z.object({
  callback_url: z.string().url().optional(),
  push_data: z.object({ tag: z.string().min(1), pusher: z.string().optional() }),
  repository: z.object({ repo_name: z.string().min(1) }),
});

/** Docker Hub's push payload: the repository, the tag pushed (the version) and where to answer. */
export function parseRegistryPush(value: unknown): {
  readonly repository: string;
  readonly tag: string;
  readonly callbackUrl: string | null;
} {
  const push = parseWith(registryPush, value, 'a Docker Hub push payload');
  return {
    repository: push.repository.repo_name,
    tag: push.push_data.tag,
    callbackUrl: push.callback_url ?? null,
  };
}

/** The release a registry tag names (a leading v stripped). */
export function registryVersion(tag: string): string {
  return releaseVersion(tag.replace(/^v(?=\d)/, ''), 'push_data.tag');
}
