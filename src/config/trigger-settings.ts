import { readFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { messageOf } from '../errors/ferry-error.js';
import { duration, listen, name, positiveInt, size, type ListenAddress } from './fields.js';
import type { ConfigProblem } from './compile.js';

/** Where webhooks are received when apps have `triggers` and no `triggers.listen` is given. */
export const DEFAULT_TRIGGERS_LISTEN = '0.0.0.0:7080';

const MIN_SECRET_LENGTH = 16;

/** A shared secret: its problems name its length or type, never its value. */
const secretValue = (what: string) =>
  z.unknown().transform((value, ctx): string => {
    if (typeof value !== 'string' || value.length < MIN_SECRET_LENGTH) {
      const got = typeof value === 'string' ? `${value.length} characters` : `a ${typeof value}`;
      ctx.addIssue({
        code: 'custom',
        message: `expected ${what} of at least ${MIN_SECRET_LENGTH} characters, got ${got}`,
      });
      return z.NEVER;
    }
    return value;
  });

/** A secret given inline or read from a file (relative to ferry.yaml) when the config is compiled. */
const secretSource = {
  secret: secretValue('a secret').optional(),
  secret_file: z.string().min(1).optional(),
};

const REPOSITORY = /^[A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+$/;
const repository = (what: string) => z.string().regex(REPOSITORY, `expected ${what} like "owner/name"`);

/** `triggers` at the top of ferry.yaml: the webhook listener, which faces the internet. */
export const triggersSchema = z.strictObject({
  listen: listen.prefault(DEFAULT_TRIGGERS_LISTEN),
  max_body: size('a size').prefault('1MiB'),
  /** Deliveries older or newer than this (their timestamp) are refused as replays. */
  replay_window: duration.prefault('5m'),
  /** Requests per source IP: a bucket of `requests`, refilled over `per`. */
  rate_limit: z
    .strictObject({ requests: positiveInt('a number of requests').default(30), per: duration.prefault('1m') })
    .prefault({}),
});

/** The GitHub events that may deploy an app. */
export const GITHUB_EVENTS = ['release', 'push', 'workflow_run'] as const;
export type GithubEvent = (typeof GITHUB_EVENTS)[number];

/** `apps.<app>.triggers`: which webhooks may deploy the app (docs/triggers.md). */
export const appTriggersSchema = z.strictObject({
  generic: z.strictObject({ ...secretSource, env: name('an environment name').optional() }).optional(),
  github: z
    .strictObject({
      ...secretSource,
      repository: repository('a GitHub repository'),
      env: name('an environment name').optional(),
      events: z.array(z.enum(GITHUB_EVENTS)).min(1).default(['release']),
      /** `push`: the branch whose pushes deploy; `workflow_run`: the branch its runs must be on. */
      branch: z.string().min(1).max(255).optional(),
      /** `workflow_run`: only runs of the workflow of this name deploy. */
      workflow: z.string().min(1).max(255).optional(),
      /** Prereleases are deployed too when set; drafts never are. */
      prereleases: z.boolean().default(false),
    })
    .optional(),
  registry: z
    .strictObject({
      repository: repository('a registry repository'),
      env: name('an environment name').optional(),
      /** The last path segment of the webhook URL: Docker Hub cannot sign its deliveries. */
      token: secretValue('a token').optional(),
      token_file: z.string().min(1).optional(),
    })
    .optional(),
});

export type RawTriggers = z.output<typeof triggersSchema>;
export type RawAppTriggers = z.output<typeof appTriggersSchema>;

/** The webhook listener's settings, compiled. */
export interface TriggersConfig {
  readonly listen: ListenAddress;
  readonly maxBodyBytes: number;
  readonly replayWindowMs: number;
  readonly rateLimit: { readonly requests: number; readonly perMs: number };
}

/** The webhooks that may deploy one app. Secrets are held here only: never logged or shown. */
export interface AppTriggersConfig {
  readonly generic: { readonly secret: string; readonly env: string | null } | null;
  readonly github: {
    readonly secret: string;
    readonly repository: string;
    readonly env: string | null;
    readonly events: readonly GithubEvent[];
    readonly prereleases: boolean;
    /** The branch pushes deploy from (and workflow runs must be on); null: none named. */
    readonly branch: string | null;
    /** The workflow whose successful runs deploy; null: any. */
    readonly workflow: string | null;
  } | null;
  readonly registry: {
    readonly repository: string;
    readonly env: string | null;
    readonly token: string | null;
  } | null;
}

export const NO_TRIGGERS: AppTriggersConfig = { generic: null, github: null, registry: null };

/** `triggers` compiled; null when the file has none and no app has triggers (nothing listens). */
export function compileTriggers(
  raw: RawTriggers | undefined,
  anyAppTriggers: boolean,
): TriggersConfig | null {
  if (raw === undefined && !anyAppTriggers) return null;
  const settings = raw ?? triggersSchema.parse({});
  return {
    listen: settings.listen,
    maxBodyBytes: settings.max_body,
    replayWindowMs: settings.replay_window,
    rateLimit: { requests: settings.rate_limit.requests, perMs: settings.rate_limit.per },
  };
}

/** An app's `triggers`, compiled: secret files read now, environments checked against the declared ones. */
export function compileAppTriggers(
  raw: RawAppTriggers | undefined,
  where: string,
  environments: readonly string[],
  baseDir: string,
  problems: ConfigProblem[],
): AppTriggersConfig {
  if (raw === undefined) return NO_TRIGGERS;
  const envOf = (source: string, env: string | undefined): string | null => {
    if (env === undefined) return null;
    if (!environments.includes(env))
      problems.push({
        path: `${where}.triggers.${source}.env`,
        message: `expected one of the declared environments (${environments.join(', ')}), got "${env}"`,
      });
    return env;
  };
  const secretOf = (
    source: string,
    field: 'secret' | 'token',
    inline: string | undefined,
    file: string | undefined,
    required: boolean,
  ): string | null => {
    const at = `${where}.triggers.${source}`;
    if (inline !== undefined && file !== undefined) {
      problems.push({ path: at, message: `expected ${field} or ${field}_file, got both` });
      return null;
    }
    if (file !== undefined)
      return readSecretFile(path.resolve(baseDir, file), `${at}.${field}_file`, problems);
    if (inline === undefined && required)
      problems.push({
        path: at,
        message: `expected ${field} or ${field}_file (the webhook's shared secret), got neither`,
      });
    return inline ?? null;
  };
  const { generic, github, registry } = raw;
  if (github?.events.includes('push') && github.branch === undefined)
    problems.push({
      path: `${where}.triggers.github.branch`,
      message: 'expected the branch whose pushes deploy (events has push), got none',
    });
  return {
    generic: generic
      ? {
          secret: secretOf('generic', 'secret', generic.secret, generic.secret_file, true) ?? '',
          env: envOf('generic', generic.env),
        }
      : null,
    github: github
      ? {
          secret: secretOf('github', 'secret', github.secret, github.secret_file, true) ?? '',
          repository: github.repository,
          env: envOf('github', github.env),
          events: github.events,
          prereleases: github.prereleases,
          branch: github.branch ?? null,
          workflow: github.workflow ?? null,
        }
      : null,
    registry: registry
      ? {
          repository: registry.repository,
          env: envOf('registry', registry.env),
          token: secretOf('registry', 'token', registry.token, registry.token_file, false),
        }
      : null,
  };
}

function readSecretFile(file: string, at: string, problems: ConfigProblem[]): string | null {
  let text: string;
  try {
    text = readFileSync(file, 'utf8').trim();
  } catch (error) {
    // The error names the file, never its content.
    problems.push({ path: at, message: `expected a readable file, got ${messageOf(error)}` });
    return null;
  }
  if (text.length < MIN_SECRET_LENGTH) {
    problems.push({
      path: at,
      message: `expected a secret of at least ${MIN_SECRET_LENGTH} characters in ${file}, got ${text.length}`,
    });
    return null;
  }
  return text;
}
