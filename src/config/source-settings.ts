import { readFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { messageOf } from '../errors/ferry-error.js';
import { SecretValue } from '../lib/secret-value.js';
import { duration, name } from './fields.js';
import type { CompileContext, ConfigProblem } from './compile.js';

/** Polling more often than this would spend a rate limit for nothing (docs/triggers.md). */
export const MIN_SOURCE_INTERVAL_MS = 10_000;

const REPOSITORY = /^[A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+$/;
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

const interval = duration.prefault('1m');

const httpUrl = (what: string) =>
  z.string().refine((value) => {
    try {
      const url = new URL(value);
      return url.protocol === 'http:' || url.protocol === 'https:';
    } catch {
      return false;
    }
  }, `expected ${what} (an http(s) URL)`);

/** `apps.<app>.sources`: where Ferry looks for new releases by itself (docs/triggers.md#release-sources). */
export const appSourcesSchema = z.strictObject({
  github: z
    .strictObject({
      repository: z.string().regex(REPOSITORY, 'expected a GitHub repository like "owner/name"'),
      /** A glob (picomatch) that exactly one asset of a release must match. */
      asset: z.string().min(1, 'expected a glob of the release asset, like "hello-*.tar.gz"'),
      checksums: z.string().min(1).default('SHA256SUMS*'),
      require_checksum: z.boolean().default(false),
      prereleases: z.boolean().default(false),
      drafts: z.boolean().default(false),
      interval,
      base_url: httpUrl('the GitHub API base URL').default('https://api.github.com'),
      token_env: z
        .string()
        .regex(ENV_NAME, 'expected an environment variable name like GITHUB_TOKEN')
        .optional(),
      token_file: z.string().min(1).optional(),
      env: name('an environment name').optional(),
    })
    .optional(),
  http: z
    .strictObject({
      url: httpUrl('the URL of a JSON release document'),
      format: z.enum(['index', 'latest']),
      interval,
      headers: z.record(z.string(), z.string()).default({}),
      env: name('an environment name').optional(),
    })
    .optional(),
});

export type RawAppSources = z.output<typeof appSourcesSchema>;

/** An app's GitHub releases watcher. The token is held here only: never logged or shown. */
export interface GithubSourceConfig {
  readonly repository: string;
  readonly asset: string;
  readonly checksums: string;
  readonly requireChecksum: boolean;
  readonly prereleases: boolean;
  readonly drafts: boolean;
  readonly intervalMs: number;
  /** Without a trailing slash: `https://api.github.com`, `https://ghe.example.com/api/v3`. */
  readonly baseUrl: string;
  readonly token: SecretValue | null;
  readonly env: string | null;
}

/** An app's HTTP release document watcher. */
export interface HttpSourceConfig {
  readonly url: string;
  readonly format: 'index' | 'latest';
  readonly intervalMs: number;
  /** Sent with every request; may carry credentials (shown as names only). */
  readonly headers: ReadonlyMap<string, string>;
  readonly env: string | null;
}

export interface AppSourcesConfig {
  readonly github: GithubSourceConfig | null;
  readonly http: HttpSourceConfig | null;
}

export const NO_SOURCES: AppSourcesConfig = { github: null, http: null };

/** An app's `sources`, compiled: the token read now, intervals and environments checked. */
export function compileAppSources(
  raw: RawAppSources | undefined,
  where: string,
  environments: readonly string[],
  ctx: CompileContext,
  problems: ConfigProblem[],
): AppSourcesConfig {
  if (raw === undefined) return NO_SOURCES;
  const at = `${where}.sources`;
  const envOf = (source: string, env: string | undefined): string | null => {
    if (env === undefined) return null;
    if (!environments.includes(env))
      problems.push({
        path: `${at}.${source}.env`,
        message: `expected one of the declared environments (${environments.join(', ')}), got "${env}"`,
      });
    return env;
  };
  const intervalOf = (source: string, ms: number): number => {
    if (ms < MIN_SOURCE_INTERVAL_MS)
      problems.push({
        path: `${at}.${source}.interval`,
        message: `expected an interval of at least ${MIN_SOURCE_INTERVAL_MS / 1000}s, got ${ms}ms`,
      });
    return Math.max(ms, MIN_SOURCE_INTERVAL_MS);
  };
  const { github, http } = raw;
  return {
    github: github
      ? {
          repository: github.repository,
          asset: github.asset,
          checksums: github.checksums,
          requireChecksum: github.require_checksum,
          prereleases: github.prereleases,
          drafts: github.drafts,
          intervalMs: intervalOf('github', github.interval),
          baseUrl: github.base_url.replace(/\/+$/, ''),
          token: compileToken(github.token_env, github.token_file, `${at}.github`, ctx, problems),
          env: envOf('github', github.env),
        }
      : null,
    http: http
      ? {
          url: http.url,
          format: http.format,
          intervalMs: intervalOf('http', http.interval),
          headers: new Map(Object.entries(http.headers)),
          env: envOf('http', http.env),
        }
      : null,
  };
}

function compileToken(
  tokenEnv: string | undefined,
  tokenFile: string | undefined,
  at: string,
  ctx: CompileContext,
  problems: ConfigProblem[],
): SecretValue | null {
  if (tokenEnv !== undefined && tokenFile !== undefined) {
    problems.push({ path: at, message: 'expected token_env or token_file, got both' });
    return null;
  }
  if (tokenEnv !== undefined) {
    const value = Object.hasOwn(ctx.env, tokenEnv) ? ctx.env[tokenEnv]?.trim() : undefined;
    if (value === undefined || value === '') {
      problems.push({
        path: `${at}.token_env`,
        message: `expected the environment variable ${tokenEnv} to be set (to a GitHub token), got it unset or empty`,
      });
      return null;
    }
    return new SecretValue(value);
  }
  if (tokenFile === undefined) return null;
  const file = path.resolve(ctx.baseDir, tokenFile);
  let value: string;
  try {
    value = readFileSync(file, 'utf8').trim();
  } catch (error) {
    // The error names the file, never its content.
    problems.push({
      path: `${at}.token_file`,
      message: `expected a readable file holding a GitHub token, got ${messageOf(error)}`,
    });
    return null;
  }
  if (value === '') {
    problems.push({
      path: `${at}.token_file`,
      message: `expected a GitHub token in ${file}, got an empty file`,
    });
    return null;
  }
  return new SecretValue(value);
}
