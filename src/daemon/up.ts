import { existsSync } from 'node:fs';
import path from 'node:path';
import { loadConfig, parseConfig } from '../config/load.js';
import type { FerryConfig } from '../config/types.js';
import type { DeploymentEvent } from '../store/store.js';
import { createLogger } from '../lib/logger.js';
import { messageOf } from '../errors/ferry-error.js';
import { CONFIG_APPLIED, type ConfigAppliedEvent } from './config-apply.js';
import { Daemon } from './daemon.js';
import type { Recovery } from './earlier-state.js';

export interface UpOptions {
  readonly config?: string;
  readonly home?: string;
  /** `--adopt` or `--reset`: how to start on a lost store. */
  readonly recovery?: Recovery;
  readonly out?: NodeJS.WritableStream;
}

/**
 * `ferry up`: the all-in-one daemon in the foreground. Prints where the apps and the API listen,
 * then each deployment event as it happens. Runs until SIGINT/SIGTERM; the router and the apps
 * keep serving after it stops (`ferry down` stops them too).
 */
export async function up(opts: UpOptions): Promise<void> {
  const out = opts.out ?? process.stdout;
  const config = readConfig(opts);
  const daemon = new Daemon({
    config,
    openLog: (file) => createLogger({ destination: file }),
    ...(opts.recovery ? { recovery: opts.recovery } : {}),
  });
  const stop = async (signal: string) => {
    out.write(`\n${signal}: stopping the daemon; the router and apps keep serving (ferry down stops them)\n`);
    await daemon.stop();
    process.exit(0);
  };
  process.once('SIGINT', () => void stop('SIGINT'));
  process.once('SIGTERM', () => void stop('SIGTERM'));
  out.write(`ferry: starting (data in ${config.dataDir})\n`);
  daemon.notices.on('notice', (notice: { level: string; message: string }) =>
    out.write(`  [router] ${notice.level === 'error' ? 'ERROR: ' : ''}${notice.message}\n`),
  );
  daemon.notices.on(CONFIG_APPLIED, (event: ConfigAppliedEvent) =>
    out.write(`  [config] applied by ${event.actor}: ${describeApplied(event)}\n`),
  );
  // SIGHUP: the file ferry up was started with, read again and applied (as ferry apply, without --prune).
  process.on('SIGHUP', () => {
    daemon.reload().catch((error: unknown) => out.write(`  [config] SIGHUP: ${messageOf(error)}\n`));
  });
  await daemon.start();
  daemon.bus.on('event', (event: DeploymentEvent) => {
    if (event.type !== 'phase') out.write(`  [${event.deploymentId}] ${event.message}\n`);
  });
  await daemon.idle();
  out.write(banner(config, daemon.apiUrl));
}

function readConfig(opts: UpOptions): FerryConfig {
  const env = opts.home ? { ...process.env, FERRY_HOME: opts.home } : process.env;
  if (opts.config) return loadConfig(opts.config, env);
  if (existsSync('ferry.yaml')) return loadConfig('ferry.yaml', env);
  return parseConfig('{}', { configPath: null, env });
}

function describeApplied(event: ConfigAppliedEvent): string {
  if (event.changes.length === 0) return 'no changes';
  return event.changes.map((c) => `${c.action} ${c.app} (${c.env})`).join(', ');
}

function banner(config: FerryConfig, apiUrl: string): string {
  const lines = ['', 'Ferry is up.', `  API:  ${apiUrl}  (token: ${path.join(config.dataDir, 'api-token')})`];
  const first = Object.keys(config.apps)[0];
  for (const app of Object.values(config.apps)) {
    for (const [env, settings] of Object.entries(app.environments)) {
      lines.push(`  app:  ${app.name} (${env}) on http://${settings.listen.host}:${settings.listen.port}/`);
    }
  }
  if (first) {
    const { host, port } = config.apps[first]!.environments[config.environments[0]!]!.listen;
    lines.push(
      '',
      'Try, in another terminal:',
      `  curl http://${host}:${port}/`,
      `  ferry status`,
      `  ferry deploy ${first} <version> --wait`,
      `  ferry rollback ${first} --wait`,
      `  ferry history ${first}`,
    );
  } else {
    lines.push('', 'No apps configured: see docs/configuration.md, then ferry up --config ferry.yaml');
  }
  return `${lines.join('\n')}\n\n`;
}
