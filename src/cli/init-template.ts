import { InvalidArgumentError } from 'commander';
import { isName, NAME_PATTERN } from '../lib/names.js';

/** What `ferry init` knows: its flags, and which files the directory holds (for the defaults). */
export interface InitOptions {
  readonly name?: string;
  readonly command?: string;
  readonly port?: number;
  readonly health?: string;
}

export interface InitDirectory {
  /** The directory's base name: the app's default name. */
  readonly baseName: string;
  /** Reads a file of the directory, or undefined when it is not there. */
  readonly read: (file: string) => string | undefined;
}

/** An app's default name from its directory: lowercase, other characters as "-"; "app" if nothing fits. */
export function defaultAppName(baseName: string): string {
  const candidate = baseName
    .toLowerCase()
    .replace(/[^a-z0-9_-]+/g, '-')
    .replace(/^[-_]+|[-_]+$/g, '')
    .slice(0, 63);
  return isName(candidate) ? candidate : 'app';
}

/** `ferry init --name`: an app name as ferry.yaml takes it. */
export function appNameArg(value: string): string {
  if (NAME_PATTERN.test(value)) return value;
  // ferry.yaml's rule for names (config/fields.ts), in its words.
  throw new InvalidArgumentError(
    `--name: expected an app name of lowercase letters, digits, "-" or "_", got "${value}"`,
  );
}

/** `ferry init --port`: the port users reach the app on. */
export function portArg(value: string): number {
  const port = Number(value);
  if (Number.isInteger(port) && port >= 1 && port <= 65_535) return port;
  throw new InvalidArgumentError(`--port: expected a port from 1 to 65535, got "${value}"`);
}

/** `ferry init --health`: the path an HTTP check asks for. */
export function healthPathArg(value: string): string {
  if (value.startsWith('/') && !/\s/.test(value)) return value;
  throw new InvalidArgumentError(
    `--health: expected a path starting with "/", like /healthz, got "${value}"`,
  );
}

/** `ferry init --command`: split into a command and its arguments as a shell would (quotes, no expansion). */
export function commandArg(value: string): string[] {
  const words: string[] = [];
  let word = '';
  let quote: '"' | "'" | null = null;
  let started = false;
  for (const char of value) {
    if (quote !== null) {
      if (char === quote) quote = null;
      else word += char;
    } else if (char === '"' || char === "'") {
      quote = char;
      started = true;
    } else if (/\s/.test(char)) {
      if (started) words.push(word);
      word = '';
      started = false;
    } else {
      word += char;
      started = true;
    }
  }
  if (quote !== null)
    throw new InvalidArgumentError(`--command: expected a closing ${quote}, got "${value}"`);
  if (started) words.push(word);
  if (words.length === 0)
    throw new InvalidArgumentError('--command: expected the command that starts the app, got nothing');
  return words;
}

/** How the app in the directory most likely starts, and whether that was a guess from its files. */
function guessCommand(dir: InitDirectory): { words: string[]; found: string | null } {
  const pkg = dir.read('package.json');
  if (pkg !== undefined) {
    try {
      const parsed = JSON.parse(pkg) as { scripts?: { start?: unknown }; main?: unknown };
      if (typeof parsed.scripts?.start === 'string')
        return { words: ['npm', 'start'], found: 'package.json (scripts.start)' };
      if (typeof parsed.main === 'string')
        return { words: ['node', parsed.main], found: 'package.json (main)' };
    } catch {
      // Not JSON: look at the other files.
    }
  }
  for (const [file, words] of [
    ['server.js', ['node', 'server.js']],
    ['server.mjs', ['node', 'server.mjs']],
    ['index.js', ['node', 'index.js']],
    ['index.mjs', ['node', 'index.mjs']],
    ['app.py', ['python3', 'app.py']],
    ['main.py', ['python3', 'main.py']],
  ] as const) {
    if (dir.read(file) !== undefined) return { words: [...words], found: file };
  }
  return { words: ['./start'], found: null };
}

/** A YAML scalar that reads back as the same string. */
function quoted(value: string): string {
  return JSON.stringify(value);
}

/**
 * The commented ferry.yaml `ferry init` writes for the app in a directory: one app, served on
 * 127.0.0.1:PORT, released as tarballs of the directory (the comments say how to build one).
 */
export function initTemplate(opts: InitOptions, dir: InitDirectory): string {
  const app = opts.name ?? defaultAppName(dir.baseName);
  const guessed = opts.command === undefined ? guessCommand(dir) : null;
  const [command, ...args] = opts.command !== undefined ? commandArg(opts.command) : guessed!.words;
  const port = opts.port ?? 8080;
  const source =
    guessed === null
      ? '--command'
      : guessed.found === null
        ? 'nothing found to guess from: change it to the command that starts your app'
        : `guessed from ${guessed.found}`;
  const check =
    opts.health !== undefined
      ? `      http: { path: ${quoted(opts.health)}, status: 200 }`
      : `      # A TCP connect to PORT; with an HTTP endpoint that says "ready", prefer:
      #   http: { path: /healthz, status: 200 }     (ferry init --health /healthz)
      tcp: true`;
  return `# ferry.yaml for ${app}, written by \`ferry init\`. Check it with \`ferry config check\`, run it with
# \`ferry up\`. Every field is described in docs/configuration.md.

# The daemon's API (the CLI finds it through the data directory, ~/.ferry or $FERRY_HOME):
# api:
#   listen: 127.0.0.1:7070

apps:
  ${app}:
    # Where a release comes from; {version} is replaced by the version deployed. A path is relative
    # to this file; http(s)://, s3:// and gs:// URLs also need a checksum (or a checksums file).
    # Build release 1.0.0 of this directory, then deploy it:
    #   mkdir -p dist && tar czf dist/${app}-1.0.0.tar.gz --exclude=./dist --exclude=./ferry.yaml .
    #   ferry deploy ${app} 1.0.0 --wait
    artifact:
      url: dist/${app}-{version}.tar.gz
    # Deployed by \`ferry up\` when nothing runs yet:
    # initial_release: 1.0.0

    # How an instance runs: in its release's directory, with PORT set to the port it must listen
    # on (${source}).
    run:
      command: ${quoted(command!)}
      args: [${args.map(quoted).join(', ')}]
      env: {}
    instances: 2

    # Where users reach the app: the router listens here and sends each request to a healthy instance.
    listen: 127.0.0.1:${port}

    # An instance gets requests once its check passes; a new release that does not pass within the
    # deadline is rolled back by itself.
    health:
${check}
      interval: 1s
      deadline: 60s

    # blue-green: the new release starts beside the old one and takes all traffic once healthy;
    # canary: a share of the traffic first (ferry deploy ${app} VERSION --strategy canary);
    # all-at-once: the old one stops first.
    strategy:
      kind: blue-green

    # SIGTERM, then this long to finish the requests in flight, then SIGKILL.
    stop:
      grace: 10s
`;
}
