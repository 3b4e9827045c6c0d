import path from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { configFlag, findConfigFile, type ConfigFile } from '../config/config-file.js';
import { loadConfig, parseConfig } from '../config/load.js';
import type { FerryConfig } from '../config/types.js';
import { DEFAULT_AGENTS_LISTEN, parseListen } from '../config/listen-address.js';
import { createLogger } from '../lib/logger.js';
import { shellWord } from '../lib/shell-word.js';
import { messageOf } from '../errors/ferry-error.js';
import { Daemon } from './daemon.js';
import type { Recovery } from './earlier-state.js';

export interface UpOptions {
  /** -c: the configuration file (else ./ferry.yaml when present). */
  readonly config?: string;
  /** --home: the data directory, over FERRY_HOME and data_dir. */
  readonly home?: string;
  /** `--adopt` or `--reset`: how to start on a lost store. */
  readonly recovery?: Recovery;
  /** `ferry server`: agents of other hosts connect (ferry.yaml's `server`, else its defaults). */
  readonly server?: boolean;
  /** `ferry server --store URL`: the control plane's key-value store (etcd://...). */
  readonly store?: string;
  readonly out?: NodeJS.WritableStream;
}

/**
 * `ferry up`: the all-in-one daemon in the foreground. Prints where the apps and the API listen,
 * then each deployment event as it happens. Runs until SIGINT/SIGTERM; the router and the apps
 * keep serving after it stops (`ferry down` stops them too).
 */
export async function up(opts: UpOptions): Promise<void> {
  // The daemon of one host trades JIT speed it does not need for memory: idle RSS after a few
  // deploys 75-80 MB instead of 92-94 (bench/deploy.mjs). Set here, not as a node flag in
  // bin/ferry.js, where it would slow every one-shot command's start by about 11 ms. `ferry server`
  // spends its CPU taking a thousand agents' reports a second, which --optimize-for-size made 25%
  // dearer (bench/fleet-agents.mjs: 30.6% of a core instead of 25); a slower-growing heap keeps its
  // RSS within its bound instead (280 MB instead of 317-361 with V8's defaults).
  setFlagsFromString(opts.server === true ? '--heap-growing-percent=15' : '--optimize-for-size');
  const out = opts.out ?? process.stdout;
  const read = readConfig(opts);
  const { file } = read;
  let { config } = read;
  if (opts.server && config.server === null) config = withDefaultServer(config);
  // `ferry server --store URL`: over server.store (checked as the store opens it).
  if (opts.store !== undefined && config.server !== null)
    config = { ...config, server: { ...config.server, store: opts.store } };
  // On a terminal the daemon's log is shown as it is written, one readable line per entry (the
  // file keeps JSON); it says what the event and notice lines below would, so they are left out.
  const terminal = opts.out === undefined && process.stdout.isTTY ? process.stdout : undefined;
  const daemon = new Daemon({
    config,
    openLog: (file) => createLogger({ destination: file, ...(terminal ? { terminal } : {}) }),
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
  if (!terminal)
    daemon.notices.on('notice', (notice: { level: string; message: string }) =>
      out.write(`  [router] ${notice.level === 'error' ? 'ERROR: ' : ''}${notice.message}\n`),
    );
  // SIGHUP: the file ferry up was started with, read again and applied (as ferry apply, without --prune).
  process.on('SIGHUP', () => {
    daemon.reload().catch((error: unknown) => out.write(`  [config] SIGHUP: ${messageOf(error)}\n`));
  });
  await daemon.start();
  if (!terminal)
    daemon.events.subscribe((published) => {
      if (published.kind === 'config' && published.source !== 'start')
        out.write(`  [config] ${published.message}\n`);
      if (published.kind === 'release') out.write(`  [release] ${published.message}\n`);
      if (published.kind === 'rollout')
        out.write(`  [rollout ${published.app}.${published.env}] ${published.message}\n`);
      if (published.kind !== 'deployment-event') return;
      const { event } = published;
      if (event.type !== 'phase') out.write(`  [${event.deploymentId}] ${event.message}\n`);
    });
  await daemon.idle();
  out.write(banner(config, daemon.apiUrl, clientFlags(config, file, opts), daemon.agentsAddress));
}

/** `ferry server` without a `server` section: agents connect on every interface, port 7443. */
function withDefaultServer(config: FerryConfig): FerryConfig {
  return {
    ...config,
    server: { listen: parseListen(DEFAULT_AGENTS_LISTEN)!, names: [], tls: null, store: null },
  };
}

function readConfig(opts: UpOptions): { config: FerryConfig; file: ConfigFile | null } {
  const env = opts.home ? { ...process.env, FERRY_HOME: opts.home } : process.env;
  const file = findConfigFile(opts.config);
  const config = file ? loadConfig(file.path, env) : parseConfig('{}', { configPath: null, env });
  return { config, file };
}

/**
 * What another command needs, run in this directory, to find this daemon as ferry up did: -c for
 * a file other than ./ferry.yaml, --home when the data directory came from --home or FERRY_HOME
 * (another terminal may not have that variable).
 */
function clientFlags(config: FerryConfig, file: ConfigFile | null, opts: UpOptions): string {
  const homeGiven = opts.home !== undefined || Boolean(process.env.FERRY_HOME);
  return [configFlag(file), homeGiven ? ` --home ${shellWord(config.dataDir)}` : ''].join('');
}

function banner(
  config: FerryConfig,
  apiUrl: string,
  flags: string,
  agents: { readonly url: string; readonly caFingerprint: string } | null,
): string {
  const lines = ['', 'Ferry is up.', `  API:  ${apiUrl}  (token: ${path.join(config.dataDir, 'api-token')})`];
  if (agents !== null)
    lines.push(
      `  agents: ${agents.url}  (CA ${agents.caFingerprint})`,
      `    enroll a host: ferry join-token create${flags}, then on the host:`,
      `    ferry agent --server ${agents.url} --ca-fingerprint ${agents.caFingerprint} --token <join token>`,
    );
  const first = Object.keys(config.apps)[0];
  for (const app of Object.values(config.apps)) {
    for (const [env, settings] of Object.entries(app.environments)) {
      const selector = config.environmentHosts.get(env);
      const where = `${settings.listen.host}:${settings.listen.port}`;
      lines.push(
        selector === undefined
          ? `  app:  ${app.name} (${env}) on http://${where}/`
          : `  app:  ${app.name} (${env}) on the hosts labelled ${labelText(selector)}, at ${where} on each`,
      );
    }
  }
  if (first) {
    const env = config.environments[0]!;
    const { host, port } = config.apps[first]!.environments[env]!.listen;
    lines.push(
      '',
      'Try, in another terminal:',
      ...(config.environmentHosts.has(env) ? [] : [`  curl http://${host}:${port}/`]),
      `  ferry status${flags}`,
      `  ferry deploy ${first} <version> --wait${flags}`,
      `  ferry rollback ${first} --wait${flags}`,
      `  ferry history ${first}${flags}`,
    );
  } else {
    lines.push('', 'No apps configured: see docs/configuration.md, then ferry up -c ferry.yaml');
  }
  return `${lines.join('\n')}\n\n`;
}

function labelText(labels: Readonly<Record<string, string>>): string {
  return Object.entries(labels)
    .map(([key, value]) => `${key}=${value}`)
    .join(',');
}
