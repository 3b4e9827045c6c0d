import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Deployment, DeploymentEvent, StatusResponse } from '../../src/api/types.js';
import { createHarness, type FerryHarness } from '../support/ferry.js';
import type { HostsResponse, JoinTokenCreateResponse, JoinTokensResponse } from '../../src/api/types.js';
import { waitFor } from '../support/wait.js';

const ROOT = path.resolve(import.meta.dirname, '../..');
const run = promisify(execFile);

/** The CLI as users meet it: exit codes, messages that name what was wrong, --json, the token. */
describe('ferry CLI against a running daemon', () => {
  let ferry: FerryHarness;

  beforeAll(async () => {
    // Canary steps that never end by themselves here: abort, pause and promote find the canary
    // running however slow the machine is; the test ends each deployment it starts.
    ferry = await createHarness({
      instances: 1,
      canarySteps: '[{ weight: 10%, pause: 10m }, { weight: 50%, pause: 10m }]',
    });
    await ferry.start();
  });

  afterAll(async () => {
    await ferry?.cleanup();
  });

  it('finds the daemon and its owner-only token without flags', async () => {
    const status = await ferry.json<StatusResponse>('status');
    expect(status.apps[0]).toMatchObject({ app: 'hello', env: 'production', current: '1.0.0' });
    expect(statSync(path.join(ferry.home, 'api-token')).mode & 0o777).toBe(0o600);
    expect(statSync(ferry.home).mode & 0o777).toBe(0o700);
  });

  it('lists the host and its agent, in sync with its desired state, and what it runs', async () => {
    const { hosts } = await ferry.json<HostsResponse>('hosts');
    expect(hosts).toHaveLength(1);
    expect(hosts[0]).toMatchObject({ id: 'local', address: 'in-process', labels: [] });
    expect(hosts[0]!.reportedRevision).toBe(hosts[0]!.desiredRevision);
    expect(hosts[0]!.apps).toContainEqual(
      expect.objectContaining({ app: 'hello', env: 'production', current: '1.0.0', versions: ['1.0.0'] }),
    );
    const text = await ferry.cli('hosts');
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(
      /^local {2}agent \S+ {2}last seen \d+s ago from in-process .* in sync \(revision \d+\)/,
    );
    expect(text.stdout).toMatch(
      / {2}hello \(production\) {2}current 1\.0\.0 {2}running 1\.0\.0 {2}1\/1 healthy/,
    );
  });

  it('creates a join token shown once, lists it without its secret and revokes it; the secret is in no log', async () => {
    const created = await ferry.cli(
      'join-token',
      'create',
      '--ttl',
      '2h',
      '--uses',
      '3',
      '--label',
      'role=web',
    );
    expect(created.code, created.stderr).toBe(0);
    const match = /^ {2}(ferry-join\.([0-9a-f]{16})\.([A-Za-z0-9_-]{43}))$/m.exec(created.stdout);
    expect(match, created.stdout).not.toBeNull();
    const [, token, id, secret] = match as unknown as [string, string, string, string];
    expect(created.stdout).toMatch(
      new RegExp(`^join token ${id}: enrolls 3 hosts until .* labels role=web$`, 'm'),
    );
    // No agents' listener in ferry up yet: the line is completed by hand.
    expect(created.stdout).toContain(`  ferry agent --server https://<this server>:7443 --token ${token}\n`);

    const { joinTokens } = await ferry.json<JoinTokensResponse>('join-token', 'list');
    expect(joinTokens).toEqual([
      expect.objectContaining({
        id,
        state: 'active',
        uses: 3,
        usesLeft: 3,
        labels: [{ key: 'role', value: 'web' }],
      }),
    ]);
    const listed = await ferry.cli('join-token', 'list');
    expect(listed.stdout).toMatch(new RegExp(`^${id} {2}active {3}uses left 3/3 +expires `));
    expect(listed.stdout + JSON.stringify(joinTokens)).not.toContain(secret);

    // --json gives scripts the token too; a second one, to revoke one of two.
    const other = await ferry.json<JoinTokenCreateResponse>('join-token', 'create', '--ttl', '10m');
    expect(other).toMatchObject({ agents: null, joinToken: { uses: 1, state: 'active' } });
    expect(other.token).toMatch(new RegExp(`^ferry-join\\.${other.joinToken.id}\\.`));

    const pasted = await ferry.cli('join-token', 'revoke', token);
    expect(pasted.code).toBe(2);
    expect(pasted.stderr).toContain(`ferry join-token revoke ${id}`);
    expect(pasted.stderr).not.toContain(secret);
    const revoked = await ferry.cli('join-token', 'revoke', id);
    expect(revoked.code, revoked.stderr).toBe(0);
    expect(revoked.stdout).toMatch(new RegExp(`^join token ${id} revoked: it enrolls no one now`));
    const left = await ferry.json<JoinTokensResponse>('join-token', 'list');
    expect(left.joinTokens.map((t) => t.id)).toEqual([other.joinToken.id]);
    const again = await ferry.cli('join-token', 'revoke', id);
    expect(again.code).toBe(2);
    expect(again.stderr).toMatch(
      new RegExp(`no join token has the id "${id}"[\\s\\S]*FERRY_E_JOIN_TOKEN_UNKNOWN`),
    );

    // Neither the daemon's log, nor its output, nor any file of its data directory holds a secret.
    const secrets = [secret, other.token.split('.')[2]!];
    // The log is written asynchronously: once it tells of the last change, it holds them all.
    const log = path.join(ferry.home, 'daemon.log');
    await waitFor('the log to tell of the revocation', () =>
      readFileSync(log, 'utf8').includes('join token revoked'),
    );
    expect(readFileSync(log, 'utf8')).toContain(other.joinToken.id);
    for (const file of filesUnder(ferry.home))
      for (const s of secrets) expect(readFileSync(file).includes(s), `${file} holds a token`).toBe(false);
    for (const s of secrets) expect(ferry.output).not.toContain(s);
  });

  it('refuses bad join-token and hosts revoke arguments with exit 2, naming them', async () => {
    const cases: Array<[string[], RegExp]> = [
      [
        ['join-token', 'create', '--label', 'role'],
        /--label: expected key=value, e\.g\. role=web, got "role"/,
      ],
      [['join-token', 'create', '--label', 'Role=web'], /--label: expected label keys .*, got "Role"/],
      [
        ['join-token', 'create', '--ttl', 'soon'],
        /--ttl: expected a duration like "30m", "1h" or "7d", got "soon"/,
      ],
      [
        ['join-token', 'create', '--ttl', '400d'],
        /body\.ttl: expected a duration from 1s to 365d like "1h", got "400d"/,
      ],
      [['join-token', 'create', '--uses', '0'], /--uses: expected a whole number >= 1, got "0"/],
      [
        ['join-token', 'create', '--uses', '20000'],
        /body\.uses: expected a whole number from 1 to 10000, got 20000/,
      ],
      [['join-token', 'revoke'], /missing required argument 'id'/],
      [
        ['hosts', 'revoke', 'nope'],
        /no enrolled host has the id or name "nope" \(no host is enrolled\)[\s\S]*FERRY_E_HOST_UNKNOWN/,
      ],
      [['hosts', 'revoke'], /missing required argument 'host'/],
    ];
    const before = await ferry.json<JoinTokensResponse>('join-token', 'list');
    for (const [args, problem] of cases) {
      const result = await ferry.cli(...args);
      expect(result.code, args.join(' ')).toBe(2);
      expect(result.stderr, args.join(' ')).toMatch(problem);
    }
    expect(await ferry.json<JoinTokensResponse>('join-token', 'list')).toEqual(before);
    const { hosts } = await ferry.json<HostsResponse>('hosts');
    expect(hosts.map((h) => [h.id, h.revokedAt])).toEqual([['local', null]]);
  });

  it('exits 2 naming the problem for usage errors and unknown names', async () => {
    const badStrategy = await ferry.cli('deploy', 'hello', '1.1.0', '--strategy', 'rolling');
    expect(badStrategy.code).toBe(2);
    expect(badStrategy.stderr).toMatch(
      /--strategy: expected one of blue-green, canary, all-at-once, got "rolling"/,
    );
    const unknownApp = await ferry.cli('deploy', 'nope', '1.1.0');
    expect(unknownApp.code).toBe(2);
    expect(unknownApp.stderr).toMatch(/no app named "nope" is configured \(known: hello\)/);
    const unknownEnv = await ferry.cli('status', 'hello', '--env', 'mars');
    expect(unknownEnv.code).toBe(2);
    expect(unknownEnv.stderr).toMatch(/no environment named "mars"/);
    const badVersion = await ferry.cli('deploy', 'hello', '../../etc');
    expect(badVersion.code).toBe(2);
    expect(badVersion.stderr).toMatch(/version: expected/);
    const missingArg = await ferry.cli('deploy', 'hello');
    expect(missingArg.code).toBe(2);
  });

  it('refuses a wrong token with exit 2, never echoing it', async () => {
    const wrong = await ferry.cli('status', '--token', 'not-the-token');
    expect(wrong.code).toBe(2);
    expect(wrong.stderr).toMatch(/the API token is wrong/);
    expect(wrong.stderr).not.toContain('not-the-token');
  });

  it('refuses a second deployment while one runs, naming it, and aborting works', async () => {
    const first = await ferry.cli('deploy', 'hello', '1.1.0', '--strategy', 'canary');
    expect(first.code).toBe(0);
    const second = await ferry.cli('deploy', 'hello', '2.0.1-errors');
    expect(second.code).toBe(1);
    expect(second.stderr).toMatch(
      /deployment d-[0-9a-f]+ of hello in production .* wait for it, or abort it with: ferry abort hello --env production/,
    );
    const early = await ferry.cli('resume', 'hello');
    expect(early.code).toBe(1);
    expect(early.stderr).toMatch(/cannot resume: deployment d-[0-9a-f]+ is (running|pending)/);
    const aborted = await ferry.cli('abort', 'hello', '--wait');
    expect(aborted.stdout).toMatch(/aborted: 1\.0\.0 -> 1\.1\.0/);
    expect(aborted.code).toBe(1);
    const status = await ferry.json<StatusResponse>('status');
    expect(status.apps[0]!.current).toBe('1.0.0');
  });

  it('pauses, resumes and promotes a canary', async () => {
    expect((await ferry.cli('deploy', 'hello', '1.1.0', '--strategy', 'canary')).code).toBe(0);
    await waitFor(
      'the canary step',
      async () => (await ferry.json<StatusResponse>('status')).apps[0]!.deployment?.phase === 'shifting',
    );
    const paused = await ferry.cli('pause', 'hello');
    expect(paused.code, paused.stderr).toBe(0);
    let status = await ferry.json<StatusResponse>('status');
    expect(status.apps[0]!.deployment).toMatchObject({ status: 'paused', phase: 'shifting', weight: 10 });
    expect((await ferry.cli('resume', 'hello')).code).toBe(0);
    const promoted = await ferry.cli('promote', 'hello', '--wait');
    expect(promoted.code, promoted.stdout + promoted.stderr).toBe(0);
    status = await ferry.json<StatusResponse>('status');
    expect(status.apps[0]!.current).toBe('1.1.0');
  });

  it('shows logs and history, with --json', async () => {
    const logs = await ferry.cli('logs', 'hello', '-n', '5');
    expect(logs.code).toBe(0);
    expect(logs.stdout).toMatch(/hello-1\.1\.0-[0-9a-f]+ \| hello 1\.1\.0 listening/);
    const history = await ferry.json<{ releases: Array<{ version: string; status: string }> }>(
      'history',
      'hello',
    );
    expect(history.releases.map((r) => [r.version, r.status])).toContainEqual(['1.1.0', 'good']);
    // Each deployment names what started it: these came through the API's token.
    const text = await ferry.cli('history', 'hello');
    expect(text.stdout).toMatch(/d-[0-9a-f]+ deploy 1\.0\.0 -> 1\.1\.0 .* by user api$/m);
  });

  it('refuses a release added by hand with a bad version or for an unknown app, exit 2, naming it', async () => {
    const badVersion = await ferry.cli('release', 'add', 'hello', '../1.2.0');
    expect(badVersion.code).toBe(2);
    expect(badVersion.stderr).toMatch(/body\.version: expected letters, digits.*got "\.\.\/1\.2\.0"/);
    const badChecksum = await ferry.cli(
      'release',
      'add',
      'hello',
      '1.2.0',
      '--artifact',
      'https://e.com/a.tgz',
      '--checksum',
      'sha256:xyz',
    );
    expect(badChecksum.code, badChecksum.stderr).toBe(2);
    expect(badChecksum.stderr).toContain('body.checksum');
    const unknown = await ferry.cli('release', 'add', 'nope', '1.2.0');
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('no app named "nope"');
  });

  it('validates configuration files with exit 2 and every problem listed', async () => {
    const { writeFileSync } = await import('node:fs');
    const bad = path.join(ferry.dir, 'bad.yaml');
    writeFileSync(
      bad,
      'apps:\n  web:\n    artifact: { url: x }\n    run: { command: x }\n    listen: 1\n    health: { interval: fast }\n    instances: 0\n',
    );
    const result = await ferry.cli('config', 'check', '-c', bad);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('apps.web.health.interval: expected a duration like "5s", got "fast"');
    expect(result.stderr).toContain(
      'apps.web.instances: expected a number of instances (a whole number >= 1), got 0',
    );
    const good = await ferry.cli('config', 'check', '-c', ferry.configPath);
    expect(good.code).toBe(0);
  });

  it('deploy --wait --json streams one JSON object per event, then the result; times also in ISO 8601', async () => {
    const result = await ferry.cli('deploy', 'hello', '1.0.0', '--wait', '--json');
    expect(result.code, result.stderr).toBe(0);
    const lines = result.stdout
      .trimEnd()
      .split('\n')
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(lines[0]).toMatchObject({ kind: 'started', deployment: { app: 'hello', to: '1.0.0' } });
    const events = lines.slice(1, -1);
    expect(events.length).toBeGreaterThan(2);
    for (const line of events) {
      expect(line.kind).toBe('event');
      const event = line.event as DeploymentEvent & { atIso: string };
      expect(event.atIso).toBe(new Date(event.at).toISOString());
    }
    // Each event once, in order.
    const seqs = events.map((line) => (line.event as DeploymentEvent).seq);
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
    expect(new Set(seqs).size).toBe(seqs.length);
    expect(lines.at(-1)).toMatchObject({
      kind: 'result',
      succeeded: true,
      deployment: { status: 'succeeded' },
    });
    const status = await ferry.json<StatusResponse>('status');
    const deployment = status.apps[0]!.deployment as Deployment & { createdAtIso: string };
    expect(deployment.createdAtIso).toBe(new Date(deployment.createdAt).toISOString());
  });

  it("config check --json prints an invalid file's problems as JSON and exits 2", async () => {
    const bad = path.join(ferry.dir, 'bad-json.yaml');
    writeFileSync(
      bad,
      'apps:\n  web:\n    artifact: { url: x }\n    run: { command: x }\n    listen: 1\n    health: { interval: fast }\n',
    );
    const result = await ferry.cli('config', 'check', '-c', bad, '--json');
    expect(result.code).toBe(2);
    const report = JSON.parse(result.stdout) as {
      valid: boolean;
      file: string;
      code: string;
      problems: unknown[];
    };
    expect(report).toMatchObject({ valid: false, file: bad, code: 'FERRY_E_CONFIG_INVALID' });
    expect(report.problems).toContainEqual({
      path: 'apps.web.health.interval',
      message: 'expected a duration like "5s", got "fast"',
    });
    const missing = await ferry.cli('config', 'check', '-c', path.join(ferry.dir, 'none.yaml'), '--json');
    expect(missing.code).toBe(2);
    expect(JSON.parse(missing.stdout)).toMatchObject({ valid: false, code: 'FERRY_E_CONFIG_NOT_FOUND' });
  });

  it('loads no daemon, store, runtime, AWS or GCS code on the client path', async () => {
    const forbidden = [
      /\/dist\/(daemon|store|runtime|engine|agent|supervisor|router|artifacts|health|install)\//,
      /\/dist\/config\/(load|schema|compile|fields)\.js$/,
      /\/node_modules\/(@aws-sdk|@google-cloud|better-sqlite3|fastify|pino|zod|tar|undici|fzstd)\//,
    ];
    // The bundle the CLI runs (scripts/bundle-cli.mjs) holds none of it either.
    const meta = JSON.parse(readFileSync(path.join(ROOT, 'dist/cli-bundle/meta.json'), 'utf8')) as {
      inputs: Record<string, unknown>;
    };
    const bundled = Object.keys(meta.inputs).map((input) => `file://${path.resolve(ROOT, input)}`);
    expect(bundled).toContain(`file://${ROOT}/dist/cli/main.js`);
    // ferry install's flag and event parsers are the CLI's own (the lint fence allows them).
    const installParsers = /\/dist\/install\/(flags|event|go-flag-values)\.js$/;
    const clientSide = bundled.filter((url) => !installParsers.test(url));
    for (const pattern of forbidden) expect(clientSide.filter((url) => pattern.test(url))).toEqual([]);
    const config = path.join(ferry.dir, 'client.yaml');
    writeFileSync(config, `api: { listen: "127.0.0.1:${ferry.apiPort}" }\n`);
    const commands = [
      ['--version'],
      ['status'],
      ['status', '--json'],
      ['history', 'hello'],
      ['deploy', 'hello', '1.1.0', '--wait', '--json'],
      // A ferry.yaml is read for its data_dir and api only: the YAML parser, not the schema.
      ['status', '-c', config],
    ];
    for (const args of commands) {
      const loaded = await traceImports(ferry.home, args);
      expect(loaded, args.join(' ')).toContain(`file://${ROOT}/dist/cli-bundle/main.js`);
      for (const pattern of forbidden)
        expect(
          loaded.filter((url) => pattern.test(url)),
          `ferry ${args.join(' ')}`,
        ).toEqual([]);
      // The ferry.yaml reader is bundled with the YAML parser (scripts/bundle-cli.mjs).
      const yaml = loaded.some((url) => url.endsWith('/dist/cli-bundle/daemon-settings.js'));
      expect(yaml, `ferry ${args.join(' ')} loads the YAML parser`).toBe(args.includes('-c'));
    }
  });

  it('prints an error code it does not know as given, with its message, and exits 1', async () => {
    // A newer daemon, answering with a code this CLI has never heard of.
    const server = http.createServer((_request, response) => {
      response.writeHead(409, { 'content-type': 'application/json' });
      response.end(
        JSON.stringify({ error: { code: 'FERRY_E_FROM_THE_FUTURE', message: 'the flux capacitor is busy' } }),
      );
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = server.address() as AddressInfo;
      const result = await ferry.cli('status', '--url', `http://127.0.0.1:${port}`, '--token', 'x');
      expect(result.code).toBe(1);
      expect(result.stderr).toBe('ferry: the flux capacitor is busy\n  (FERRY_E_FROM_THE_FUTURE)\n');
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });
});

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .map((name) => path.join(dir, name))
    .filter((file) => statSync(file, { throwIfNoEntry: false })?.isFile());
}

/** The modules `ferry ARGS` resolves, as file:// URLs (see test/support/trace-imports.mjs). */
async function traceImports(home: string, args: string[]): Promise<string[]> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'ferry-trace-'));
  const file = path.join(dir, 'imports.txt');
  try {
    // The exit code does not matter here: what was loaded to get there does.
    await run(
      process.execPath,
      [
        '--import',
        path.join(ROOT, 'test/support/trace-imports.mjs'),
        path.join(ROOT, 'bin/ferry.js'),
        ...args,
      ],
      { env: { ...process.env, FERRY_HOME: home, FERRY_TRACE_IMPORTS: file } },
    ).catch(() => undefined);
    return [...new Set(readFileSync(file, 'utf8').trim().split('\n'))];
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
