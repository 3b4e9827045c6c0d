import { describe, expect, it } from 'vitest';
import { isFerryError } from '../errors/ferry-error.js';
import { problemsOf } from './test-support/config-dir.js';
import { parseConfig } from './load.js';

const base = `
apps:
  hello:
    artifact: { url: "dist/hello-{version}.tar.gz" }
    run: { command: node, args: [server.mjs] }
    listen: 8080
`;

/** base with more keys in its artifact mapping. */
function withArtifact(keys: string): string {
  return base.replace(
    'artifact: { url: "dist/hello-{version}.tar.gz" }',
    `artifact: { url: "dist/hello-{version}.tar.gz", ${keys} }`,
  );
}

function problems(yaml: string): string[] {
  return problemsOf(() =>
    parseConfig(yaml, { configPath: '/etc/ferry/ferry.yaml', env: { FERRY_HOME: '/var/lib/ferry' } }),
  );
}

describe('ferry.yaml validation', () => {
  it.each([
    [
      'a duration that is not one',
      `${base}    health: { interval: fast }`,
      'apps.hello.health.interval: expected a duration like "5s", got "fast"',
    ],
    [
      'a health path without a slash',
      `${base}    health: { http: { path: healthz } }`,
      'apps.hello.health.http.path: expected a path starting with "/", got "healthz"',
    ],
    [
      'an unknown strategy',
      `${base}    strategy: { kind: rolling }`,
      'apps.hello.strategy.kind: expected one of "blue-green", "canary", "all-at-once", got "rolling"',
    ],
    [
      'a canary weight over 100%',
      `${base}    strategy: { kind: canary, steps: [{ weight: 150% }] }`,
      'apps.hello.strategy.steps.0.weight: expected a percentage of traffic like "10%" (1-100), got "150%"',
    ],
    [
      'zero instances',
      `${base}    instances: 0`,
      'apps.hello.instances: expected a number of instances (a whole number >= 1), got 0',
    ],
    [
      'a misspelt key',
      `${base}    helth: {}`,
      'apps.hello.helth: unknown key "helth"; did you mean "health"?',
    ],
    [
      'a misspelt top-level key',
      `artifact: { cache: false }\n${base}`,
      'artifact: unknown key "artifact"; did you mean "artifacts"?',
    ],
    [
      'a misspelt nested key',
      `${base}    health: { healthy-threshold: 2 }`,
      'apps.hello.health.healthy-threshold: unknown key "healthy-threshold"; did you mean "healthy_threshold"?',
    ],
    [
      'an unknown key like none it knows',
      `${base}    stop: { politely: true }`,
      'apps.hello.stop.politely: unknown key "politely"; expected one of grace',
    ],
    [
      'a misspelt strategy',
      `${base}    strategy: { kind: bluegreen }`,
      'apps.hello.strategy.kind: expected one of "blue-green", "canary", "all-at-once", got "bluegreen"; did you mean "blue-green"?',
    ],
    [
      'a misspelt environment override',
      `environments: { production: {}, staging: {} }\n${base}    environments: { stagin: { listen: 9000 } }`,
      'apps.hello.environments.stagin: expected one of the declared environments (production, staging), got "stagin"; did you mean "staging"?',
    ],
    [
      'an artifact URL of a scheme Ferry cannot fetch, shown without its credentials',
      base.replace(
        'url: "dist/hello-{version}.tar.gz"',
        'url: "ftp://deploy:hunter2@example.com/hello-{version}.tgz"',
      ),
      'apps.hello.artifact.url: expected a URL of file://, http://, https://, s3://, gs:// (or a file path), got "ftp://example.com/hello-{version}.tgz"',
    ],
    [
      'an s3 URL without a key',
      base.replace('url: "dist/hello-{version}.tar.gz"', 'url: "s3://releases", require_checksum: false'),
      'apps.hello.artifact.url: expected s3://bucket/key, got "s3://releases"',
    ],
    [
      'a checksums URL of a scheme Ferry cannot fetch',
      withArtifact('checksums: "sftp://example.com/SHA256SUMS"'),
      'apps.hello.artifact.checksums: expected a URL of file://, http://, https://, s3://, gs:// (or a file path), got "sftp://example.com/SHA256SUMS"',
    ],
    [
      'a checksum that is not one',
      withArtifact('checksum: "sha256:abc123"'),
      'apps.hello.artifact.checksum: expected hex of 32 (md5), 40 (sha1), 64 (sha256) or 128 (sha512) digits, got "sha256:abc123"',
    ],
    [
      'a checksum whose algorithm does not fit its length',
      withArtifact(`checksum: "sha512:${'a'.repeat(64)}"`),
      `apps.hello.artifact.checksum: expected sha512 with 128 hex digits, got "sha512:${'a'.repeat(64)}"`,
    ],
    [
      'a weak checksum without allow_weak_checksums',
      withArtifact(`checksum: "md5:${'a'.repeat(32)}"`),
      'apps.hello.artifact.checksum: expected a sha256 or sha512 checksum (md5 collisions can be forged; allow_weak_checksums: true accepts it), got md5',
    ],
    [
      'canary steps that take traffic back',
      `${base}    strategy: { kind: canary, steps: [{ weight: 50% }, { weight: 10% }] }`,
      'apps.hello.strategy.steps.1.weight: expected more than the step before (50%), got 10%',
    ],
    [
      'a health deadline no instance can meet',
      `${base}    health: { interval: 10s, healthy_threshold: 3, deadline: 20s }`,
      'apps.hello.health.deadline: expected at least healthy_threshold × interval (3 × 10.0s = 30.0s) for a new instance to ever pass its checks, got 20.0s',
    ],
    [
      'a header timeout above the whole request timeout',
      `${base}    router: { header_timeout: 2m, request_timeout: 1m }`,
      'apps.hello.router.header_timeout: expected at most router.request_timeout (1m00s), got 2m00s',
    ],
    [
      'an error rate that is not a percentage',
      `${base}    strategy: { analysis: { max_error_rate: lots } }`,
      'apps.hello.strategy.analysis.max_error_rate: expected a percentage like "5%" (0-100%), got "lots"',
    ],
    [
      'a listen address that is not one',
      `${base.replace('listen: 8080', 'listen: "localhost:http"')}`,
      'apps.hello.listen: expected an address like "127.0.0.1:8080" or a port, got "localhost:http"',
    ],
    [
      'a missing run command',
      `apps:\n  web:\n    artifact: { url: x }\n    listen: 1`,
      'apps.web.run: expected a mapping, got nothing',
    ],
    [
      'an app name with capitals',
      `apps:\n  Web:\n    artifact: { url: x }\n    run: { command: x }\n    listen: 1`,
      'apps.Web: expected an app name of lowercase letters, digits, "-" or "_", got "Web"',
    ],
    [
      'two apps on one port',
      `${base}  web:\n    artifact: { url: x }\n    run: { command: x }\n    listen: 8080`,
      'apps.web.environments.production.listen: expected a port of its own, got 8080 which apps.hello.environments.production.listen uses',
    ],
    [
      'an app on the API port',
      `${base.replace('listen: 8080', 'listen: 7070')}`,
      'apps.hello.environments.production.listen: expected a port of its own, got 7070 which api.listen uses',
    ],
    [
      'metrics on the API port',
      `metrics: { listen: "127.0.0.1:7070" }\n${base}`,
      'metrics.listen: expected a port of its own, got 7070 which api.listen uses',
    ],
    [
      'an app on the metrics port',
      `metrics: { listen: 8080 }\n${base}`,
      'apps.hello.environments.production.listen: expected a port of its own, got 8080 which metrics.listen uses',
    ],
    [
      'an override for an undeclared environment',
      `environments: { production: {} }\n${base}    environments: { staging: { listen: 9000 } }`,
      'apps.hello.environments.staging: expected one of the declared environments (production), got "staging"',
    ],
    [
      'a second environment without its own address',
      `environments: { production: {}, staging: {} }\n${base}`,
      'apps.hello.environments.staging.listen: expected the address the app is served on in environment "staging" (apps.hello.listen serves "production"), got nothing',
    ],
    [
      'an empty hook line',
      `${base}    hooks: { before_start: [""] }`,
      'apps.hello.hooks.before_start.0: expected a shell command, got ""',
    ],
    [
      'a bandwidth without a unit it knows',
      withArtifact('max_bandwidth: 10 megabits'),
      'apps.hello.artifact.max_bandwidth: expected bytes per second like "10M" or "2GiB", got "10 megabits"',
    ],
    [
      'negative retries',
      withArtifact('retries: -1'),
      'apps.hello.artifact.retries: expected a number of retries (a whole number >= 0), got -1',
    ],
    [
      'an unpacked size of zero',
      withArtifact('max_unpacked_size: 0'),
      'apps.hello.artifact.max_unpacked_size: expected a size like "10M" or "2GiB", got 0',
    ],
    [
      'a remote artifact without a checksum',
      base.replace('url: "dist/hello-{version}.tar.gz"', 'url: "https://example.com/hello-{version}.tar.gz"'),
      'apps.hello.artifact: expected checksum or checksums for a remote artifact (require_checksum is on), got neither; add checksum: "sha256:<hex>" or checksums: "<URL of a SHA256SUMS file>", or set require_checksum: false to install it unverified',
    ],
    [
      'a cache switch that is not a boolean',
      `artifacts: { cache: sometimes }\n${base}`,
      'artifacts.cache: expected true or false, got "sometimes"',
    ],
    [
      'an API other hosts can reach without TLS',
      `api: { listen: "0.0.0.0:7070" }\n${base}`,
      'api.listen: expected a loopback address (127.0.0.1, ::1), or api.tls for HTTPS (or api.allow_insecure: true), got "0.0.0.0", which other hosts can reach without TLS',
    ],
    [
      'an initial release named like the current link',
      `${base}    initial_release: current`,
      'apps.hello.initial_release: expected letters, digits and . _ + ~ - (at most 128, starting with a letter or digit, not "current"), got "current"',
    ],
    [
      'a run group without a user',
      base.replace('run: { command: node, args: [server.mjs] }', 'run: { command: node, group: staff }'),
      'apps.hello.run.group: expected run.user as well, got only a group',
    ],
  ])('%s', (_name, yaml, expected) => {
    expect(problems(yaml)).toContain(expected);
  });

  it('requires a checksum for remote artifacts only, unless turned off', () => {
    const remote = (keys: string, url = 's3://bucket/hello-{version}.tar.gz') =>
      base.replace('url: "dist/hello-{version}.tar.gz"', `url: "${url}"${keys}`);
    const required = 'apps.hello.artifact: expected checksum or checksums';
    expect(problems(remote('')).some((problem) => problem.startsWith(required))).toBe(true);
    expect(problems(remote(', checksum: "sha256:' + 'a'.repeat(64) + '"'))).toEqual([]);
    expect(problems(remote(', checksums: "https://example.com/SHA256SUMS"'))).toEqual([]);
    expect(problems(remote(', require_checksum: false'))).toEqual([]);
    expect(problems(`artifacts: { require_checksum: false }\n${remote('')}`)).toEqual([]);
    expect(problems(remote('', 'file:///srv/hello-{version}.tar.gz'))).toEqual([]);
    expect(problems(base)).toEqual([]);
  });

  it('reports every problem at once', () => {
    expect(problems(`${base}    instances: 0\n    health: { interval: fast, timeout: slow }`)).toHaveLength(
      3,
    );
  });

  it('reports cross-field problems beside the field problems of the same file', () => {
    const web = `  web:\n    artifact: { url: "ftp://x/{version}" }\n    run: { command: x }\n    listen: 8080\n    instances: 0\n    helth: {}\n`;
    expect(problems(`${base}    strategy: { kind: rolling }\n${web}`)).toEqual([
      'apps.hello.strategy.kind: expected one of "blue-green", "canary", "all-at-once", got "rolling"',
      'apps.web.instances: expected a number of instances (a whole number >= 1), got 0',
      'apps.web.helth: unknown key "helth"; did you mean "health"?',
      'apps.web.artifact.url: expected a URL of file://, http://, https://, s3://, gs:// (or a file path), got "ftp://x/{version}"',
      'apps.web.environments.production.listen: expected a port of its own, got 8080 which apps.hello.environments.production.listen uses',
    ]);
  });

  it('keeps variables named like prototype keys as plain keys while it looks for cross-field problems', () => {
    const yaml = `${base.replace('args: [server.mjs]', 'env: { __proto__: x, BAD: [1] }').replace('8080', '7070')}    instances: 0`;
    expect(problems(yaml)).toEqual([
      'apps.hello.run.env.BAD: expected a valid value, got a list',
      'apps.hello.instances: expected a number of instances (a whole number >= 1), got 0',
      'apps.hello.environments.production.listen: expected a port of its own, got 7070 which api.listen uses',
    ]);
    expect(Object.getPrototypeOf({})).toBe(Object.prototype);
  });

  it('accepts a checksum made from the version, and a weak one when told to', () => {
    expect(problems(withArtifact('checksum: "{version}"'))).toEqual([]);
    expect(problems(withArtifact(`checksum: "${'a'.repeat(40)}", allow_weak_checksums: true`))).toEqual([]);
  });

  it('compiles defaults into plain units, with a default environment and absolute artifact paths', () => {
    const config = parseConfig(base, {
      configPath: '/etc/ferry/ferry.yaml',
      env: { FERRY_HOME: '/var/lib/ferry' },
    });
    expect(config.environments).toEqual(['production']);
    expect(config.dataDir).toBe('/var/lib/ferry');
    expect(config.metrics).toEqual({ listen: null });
    expect(parseConfig(`metrics: { listen: "0.0.0.0:9464" }\n${base}`, { configPath: null }).metrics).toEqual(
      {
        listen: { host: '0.0.0.0', port: 9464 },
      },
    );
    const hello = config.apps.hello!;
    expect(hello.artifact.url).toBe('file:///etc/ferry/dist/hello-{version}.tar.gz');
    expect(hello.health).toMatchObject({
      intervalMs: 1000,
      timeoutMs: 1000,
      healthyThreshold: 2,
      unhealthyThreshold: 3,
      deadlineMs: 60_000,
    });
    expect(hello.strategy).toEqual({ kind: 'blue-green', healthDeadlineMs: 60_000 });
    expect(hello.environments.production).toEqual({
      listen: { host: '127.0.0.1', port: 8080 },
      instances: 1,
      env: {},
      autoDeploy: null,
    });
    expect(Object.isFrozen(hello.health)).toBe(true);
    expect(config.artifacts).toEqual({
      cacheDir: '/var/lib/ferry/cache/artifacts',
      cacheMaxBytes: 5 * 1024 ** 3,
      requireChecksum: true,
    });
    expect(hello.artifact).toMatchObject({
      timeoutMs: 3_600_000,
      retries: 3,
      retryWaitMs: 1000,
      maxBytesPerSecond: null,
      randomDelayMs: 0,
      limits: { maxBytes: 2 * 1024 ** 3, maxEntries: 100_000 },
    });
  });

  it('compiles artifact fetch settings in human units', () => {
    const config = parseConfig(
      `artifacts: { cache: false }\n${withArtifact('max_bandwidth: 10M, timeout: 1m30s, random_delay: 5s, max_unpacked_size: 512MiB')}`,
      { configPath: '/etc/ferry/ferry.yaml', env: { FERRY_HOME: '/var/lib/ferry' } },
    );
    expect(config.artifacts.cacheDir).toBeNull();
    expect(config.apps.hello!.artifact).toMatchObject({
      maxBytesPerSecond: 10 * 1024 ** 2,
      timeoutMs: 90_000,
      randomDelayMs: 5000,
      limits: { maxBytes: 512 * 1024 ** 2 },
    });
  });

  it('gives each environment its own settings', () => {
    const config = parseConfig(
      `environments: { production: {}, staging: {} }\n${base}    instances: 3\n    environments: { staging: { listen: 9000, instances: 1, env: { MODE: test } } }`,
      { configPath: null, env: {} },
    );
    expect(config.apps.hello!.environments.staging).toEqual({
      listen: { host: '127.0.0.1', port: 9000 },
      instances: 1,
      env: { MODE: 'test' },
      autoDeploy: null,
    });
    expect(config.apps.hello!.environments.production!.instances).toBe(3);
  });

  it('accepts a non-loopback API with TLS or when told it is insecure, and loopback names', () => {
    for (const api of [
      'api: { listen: "0.0.0.0:7070", tls: { cert: c.pem, key: k.pem } }',
      'api: { listen: "10.0.0.5:7070", allow_insecure: true }',
      'api: { listen: "127.0.0.2:7070" }',
      'api: { listen: "[::1]:7070" }',
      'api: { listen: "localhost:7070" }',
    ])
      expect(problems(`${api}\n${base}`), api).toEqual([]);
  });

  it('compiles names from outside into records without a prototype', () => {
    const config = parseConfig(
      `${base.replace('dist/hello-{version}.tar.gz" }', 'dist/hello-{version}.tar.gz", headers: { X-Key: v } }')}    run: { command: node, env: { GREETING: hi } }\n`.replace(
        '    run: { command: node, args: [server.mjs] }\n',
        '',
      ),
      { configPath: null, env: {} },
    );
    const app = config.apps.hello!;
    for (const record of [
      config.apps,
      app.environments,
      app.environments.production!.env,
      app.run.env,
      app.artifact.headers,
    ])
      expect(Object.getPrototypeOf(record)).toBeNull();
    expect('constructor' in config.apps).toBe(false);
    expect('toString' in app.run.env).toBe(false);
    expect(app.run.env.GREETING).toBe('hi');
  });
});

describe('YAML syntax errors', () => {
  function syntaxError(yaml: string): string {
    try {
      parseConfig(yaml, { configPath: '/etc/ferry/ferry.yaml', env: {} });
    } catch (error) {
      if (isFerryError(error, 'FERRY_E_CONFIG_INVALID')) return error.message;
      throw error;
    }
    throw new Error('expected a syntax error');
  }

  it('an unquoted {version} in a flow mapping: one message, the line, a caret and the fix', () => {
    const yaml = base.replace(
      '{ url: "dist/hello-{version}.tar.gz" }',
      '{ url: dist/hello-{version}.tar.gz }',
    );
    expect(syntaxError(yaml)).toBe(
      [
        '/etc/ferry/ferry.yaml:4:33: YAML syntax error: unexpected "{"',
        '    4 |     artifact: { url: dist/hello-{version}.tar.gz }',
        '      |                                 ^',
        '  hint: inside { ... } braces start a mapping, so a value holding them must be quoted: url: "dist/hello-{version}.tar.gz"',
      ].join('\n'),
    );
  });

  it('a value starting with {version} in a flow mapping gets the same hint', () => {
    const yaml = base.replace('{ url: "dist/hello-{version}.tar.gz" }', '{ url: {version}.tgz }');
    expect(syntaxError(yaml)).toMatch(/hint: .* must be quoted: url: "\{version\}\.tgz"$/);
  });

  it.each([
    ['a tab as indentation', 'apps:\n\thello: {}\n', ':2:1: ', 'indent with spaces'],
    ['a key twice', 'apps:\n  hello: {}\n  hello: {}\n', ':3:3: ', 'a key may appear once in a mapping'],
    [
      'a mapping that loses its column',
      'apps:\n  hello:\n    run: x\n   listen: 1\n',
      ':4:1: ',
      'start at the same column',
    ],
    ['an open bracket', 'apps: [\n', ':2:1: ', 'must be closed'],
  ])('%s: the position and a hint', (_name, yaml, position, hint) => {
    const message = syntaxError(yaml);
    expect(message.split('\n')).toHaveLength(4);
    expect(message).toContain(`/etc/ferry/ferry.yaml${position}YAML syntax error: `);
    expect(message.split('\n')[3]).toContain(hint);
  });
});
