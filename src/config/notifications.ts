import { readFileSync } from 'node:fs';
import path from 'node:path';
import { messageOf } from '../errors/ferry-error.js';
import { SecretValue } from '../lib/secret-value.js';
import { NOTIFY_EVENTS, type NotifyEvent, type NotifyKind } from '../notify/events.js';
import type { CompileContext, ConfigProblem } from './compile.js';
import type { RawNotification } from './schema.js';

/** One destination of deployment notifications (docs/triggers.md#notifications). */
export interface NotificationConfig {
  readonly kind: NotifyKind;
  /** May carry credentials: shown only through redactUrl, with its path hidden for Slack. */
  readonly url: string;
  readonly events: readonly NotifyEvent[];
  /** Only these apps' deployments; null: every app's. */
  readonly apps: readonly string[] | null;
  /** A webhook's HMAC key (shown as `***` even in `ferry config check --json`); null for Slack. */
  readonly secret: SecretValue | null;
  /** One delivery attempt's deadline. */
  readonly timeoutMs: number;
  /** Delivery attempts before a notification is given up. */
  readonly attempts: number;
  /** Notifications waiting for the destination; the oldest is dropped when more come. */
  readonly queue: number;
}

/**
 * ferry.yaml's `notifications`, compiled: a webhook's secret read (from the daemon's environment or
 * a file), and every cross-field problem under `notifications.<index>`.
 */
export function compileNotifications(
  raw: readonly RawNotification[],
  apps: readonly string[],
  ctx: CompileContext,
  problems: ConfigProblem[],
): NotificationConfig[] {
  return raw.map((n, index) => {
    const where = `notifications.${index}`;
    for (const app of n.apps ?? [])
      if (!apps.includes(app))
        problems.push({
          path: `${where}.apps`,
          message: `expected an app of this file (${apps.join(', ') || 'none'}), got "${app}"`,
        });
    return {
      kind: n.kind,
      url: n.url,
      events: n.events ?? [...NOTIFY_EVENTS],
      apps: n.apps ?? null,
      secret: compileSecret(n, where, ctx, problems),
      timeoutMs: n.timeout,
      attempts: n.attempts,
      queue: n.queue,
    };
  });
}

function compileSecret(
  n: RawNotification,
  where: string,
  ctx: CompileContext,
  problems: ConfigProblem[],
): SecretValue | null {
  const given = [n.secret_env, n.secret_file].filter((s) => s !== undefined).length;
  if (n.kind === 'slack') {
    if (given > 0)
      problems.push({
        path: where,
        message: 'expected no secret_env or secret_file for kind slack (its URL is its secret), got one',
      });
    return null;
  }
  if (given !== 1) {
    problems.push({
      path: where,
      message: `expected one of secret_env or secret_file (the key webhook signatures are made with), got ${given === 0 ? 'neither' : 'both'}`,
    });
    return null;
  }
  if (n.secret_env !== undefined) {
    const value = Object.hasOwn(ctx.env, n.secret_env) ? ctx.env[n.secret_env] : undefined;
    if (value === undefined || value === '')
      problems.push({
        path: `${where}.secret_env`,
        message: `expected the environment variable ${n.secret_env} to be set (to the signing secret), got it unset or empty`,
      });
    return value === undefined || value === '' ? null : new SecretValue(value);
  }
  const file = path.resolve(ctx.baseDir, n.secret_file ?? '');
  let value: string;
  try {
    value = readFileSync(file, 'utf8').trim();
  } catch (error) {
    problems.push({
      path: `${where}.secret_file`,
      message: `expected a readable file holding the signing secret, got ${messageOf(error)}`,
    });
    return null;
  }
  if (value === '')
    problems.push({
      path: `${where}.secret_file`,
      message: `expected the signing secret in ${file}, got an empty file`,
    });
  return new SecretValue(value);
}
