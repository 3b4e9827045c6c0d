import { z } from 'zod';
import { formatChecksum, parseChecksum } from '../artifacts/checksum.js';
import { artifactUrlProblem } from '../config/checks.js';
import { FerryError, messageOf } from '../errors/ferry-error.js';
import { versionProblem } from '../lib/release-version.js';
import type { ReleaseArtifact } from '../releases/release.js';

/** What a delivery asks for: a release of an app, in an environment (the app's first when null). */
export interface ReleaseRequest {
  readonly version: string;
  readonly env: string | null;
  /** Where the release is fetched from; null: the app's artifact.url with {version}. */
  readonly artifact?: ReleaseArtifact | null;
  readonly changelog?: string | null;
  /** When the source made it (ms since the epoch): orders versions that are not semver (commits). */
  readonly publishedAt?: number | null;
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
  /** The app, when the body names it too: it must be the one of the URL (/hooks/generic/<app>). */
  app: z.string().min(1).optional(),
  version: z.string().min(1),
  env: z.string().min(1).optional(),
  url: z.string().min(1).max(4096).optional(),
  checksum: z.string().min(1).max(200).optional(),
  changelog: z.string().max(10_000).optional(),
});

/**
 * A release's own artifact from outside: a remote URL Ferry fetches (never a file on the hosts) and
 * a checksum in a form the artifact settings read.
 */
function releaseArtifact(url: string, checksum: string | undefined): ReleaseArtifact {
  const problem = artifactUrlProblem(url);
  if (problem !== null) throw payloadError(`url: ${problem}`);
  if (new URL(url).protocol === 'file:')
    throw payloadError('url: expected an http(s)://, s3:// or gs:// URL, got a file URL');
  if (checksum === undefined) return { url, checksum: null };
  try {
    return { url, checksum: formatChecksum(parseChecksum(checksum)) };
  } catch (error) {
    throw payloadError(`checksum: ${messageOf(error)}`);
  }
}

/** `POST /hooks/generic/:app`: `{version, env?, url?, checksum?, changelog?}`. */
export function parseGeneric(value: unknown, app: string): ReleaseRequest {
  const body = parseWith(
    genericBody,
    value,
    'a JSON object {app?, version, env?, url?, checksum?, changelog?}',
  );
  // The secret that signed it is the URL's app's: a body naming another app is not for this one.
  if (body.app !== undefined && body.app !== app)
    throw payloadError(
      `app: expected ${JSON.stringify(app)} (the app of the URL), got ${JSON.stringify(body.app)}`,
    );
  if (body.checksum !== undefined && body.url === undefined)
    throw payloadError(
      "checksum: expected it with url (the app's artifact settings check their own), got it alone",
    );
  const changelog = body.changelog?.slice(0, 4096) ?? null;
  return {
    version: releaseVersion(body.version, 'version'),
    env: body.env ?? null,
    artifact: body.url !== undefined ? releaseArtifact(body.url, body.checksum) : null,
    changelog,
    detail: changelog !== null ? { changelog: changelog.slice(0, 500) } : {},
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

const githubPush = z.object({
  ref: z.string(),
  after: z.string(),
  deleted: z.boolean().default(false),
  compare: z.string().optional(),
  head_commit: z.object({ timestamp: z.string().optional() }).nullable().optional(),
});

/** A time GitHub sends (ISO 8601) in ms, or null when absent or unreadable. */
function timeOf(text: string | null | undefined): number | null {
  const ms = text ? Date.parse(text) : NaN;
  return Number.isNaN(ms) ? null : ms;
}

/** The version a commit names: the first 12 hex digits of its SHA. */
function commitVersion(sha: string, where: string): string {
  if (!/^[0-9a-f]{40}$/i.test(sha))
    throw payloadError(`${where}: expected a 40-digit commit SHA, got another`);
  return sha.slice(0, 12).toLowerCase();
}

/** A push to the configured branch deploys its head commit (the app's artifact.url with that version). */
export function parseGithubPush(
  value: unknown,
  opts: { readonly branch: string | null },
): { readonly ignored: string } | { readonly request: Omit<ReleaseRequest, 'env'> } {
  const push = parseWith(githubPush, value, 'a GitHub push payload');
  const branch = push.ref.startsWith('refs/heads/') ? push.ref.slice('refs/heads/'.length) : null;
  if (branch === null || branch !== opts.branch)
    return {
      ignored: `a push to ${push.ref} (apps.<app>.triggers.github.branch is ${opts.branch ?? 'not set'})`,
    };
  if (push.deleted || /^0+$/.test(push.after)) return { ignored: `the branch ${branch} was deleted` };
  return {
    request: {
      version: commitVersion(push.after, 'after'),
      publishedAt: timeOf(push.head_commit?.timestamp),
      detail: { ref: push.ref, commit: push.after },
    },
  };
}

const githubWorkflowRun = z.object({
  action: z.string(),
  workflow_run: z.object({
    name: z.string().nullable().optional(),
    head_sha: z.string(),
    head_branch: z.string().nullable().optional(),
    conclusion: z.string().nullable().optional(),
    html_url: z.string().optional(),
    run_started_at: z.string().optional(),
    created_at: z.string().optional(),
  }),
});

/** A workflow run that completed with success deploys its head commit. */
export function parseGithubWorkflowRun(
  value: unknown,
  opts: { readonly workflow: string | null; readonly branch: string | null },
): { readonly ignored: string } | { readonly request: Omit<ReleaseRequest, 'env'> } {
  const event = parseWith(githubWorkflowRun, value, 'a GitHub workflow_run payload');
  const run = event.workflow_run;
  if (event.action !== 'completed')
    return { ignored: `workflow_run action "${event.action}" (only "completed" deploys)` };
  if (run.conclusion !== 'success')
    return { ignored: `a workflow run that ended ${run.conclusion ?? 'without a conclusion'}` };
  if (opts.workflow !== null && run.name !== opts.workflow)
    return {
      ignored: `workflow "${run.name ?? ''}" (apps.<app>.triggers.github.workflow is "${opts.workflow}")`,
    };
  if (opts.branch !== null && run.head_branch !== opts.branch)
    return {
      ignored: `a run on ${run.head_branch ?? 'no branch'} (apps.<app>.triggers.github.branch is ${opts.branch})`,
    };
  return {
    request: {
      version: commitVersion(run.head_sha, 'workflow_run.head_sha'),
      publishedAt: timeOf(run.run_started_at ?? run.created_at),
      detail: {
        workflow: run.name ?? null,
        commit: run.head_sha,
        ...(run.html_url ? { url: run.html_url } : {}),
      },
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
