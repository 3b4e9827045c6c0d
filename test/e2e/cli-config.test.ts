import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StatusResponse } from '../../src/api/types.js';
import { assertBuilt, buildReleases, freePort, markedPids } from '../support/ferry.js';
import { waitFor } from '../support/wait.js';

const ROOT = path.resolve(import.meta.dirname, '../..');
const BIN = path.join(ROOT, 'bin', 'ferry.js');
const run = promisify(execFile);

/**
 * Every command reads the configuration `ferry up` was given (-c, else ./ferry.yaml): its data_dir
 * and api.listen name the daemon; FERRY_HOME, --home and --url win; errors say which daemon was
 * asked and why that one. No FERRY_HOME here, and a HOME of its own, so ~/.ferry is nobody's.
 */
describe('ferry commands with a configuration of their own', () => {
  let dir: string;
  let state: string;
  let apiPort: number;
  let daemon: ChildProcess | null = null;
  let banner = '';
  const { FERRY_HOME: _home, FERRY_URL: _url, FERRY_TOKEN: _token, ...inherited } = process.env;
  let env: NodeJS.ProcessEnv;

  const ferry = async (args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {}) => {
    try {
      const { stdout, stderr } = await run(process.execPath, [BIN, ...args], {
        cwd: opts.cwd ?? dir,
        env: { ...env, ...opts.env },
      });
      return { code: 0, stdout, stderr };
    } catch (error) {
      const e = error as { code?: number; stdout?: string; stderr?: string };
      return {
        code: typeof e.code === 'number' ? e.code : 1,
        stdout: e.stdout ?? '',
        stderr: e.stderr ?? '',
      };
    }
  };

  beforeAll(async () => {
    assertBuilt();
    dir = mkdtempSync(path.join(os.tmpdir(), 'ferry-cli-config-'));
    state = path.join(dir, 'state');
    env = { ...inherited, HOME: path.join(dir, 'user') };
    mkdirSync(path.join(dir, 'user'));
    await buildReleases(path.join(dir, 'dist'));
    apiPort = await freePort();
    const appPort = await freePort();
    writeFileSync(
      path.join(dir, 'site.yaml'),
      `data_dir: ./state
api: { listen: "127.0.0.1:${apiPort}" }
apps:
  hello:
    artifact: { url: "dist/hello-{version}.tar.gz", checksums: dist/SHA256SUMS }
    initial_release: 1.0.0
    run: { command: node, args: [server.mjs] }
    instances: 1
    listen: "127.0.0.1:${appPort}"
    health: { http: { path: /healthz }, interval: 100ms, healthy_threshold: 2 }
    stop: { grace: 5s }
`,
    );
    const child = spawn(process.execPath, [BIN, 'up', '-c', 'site.yaml'], {
      cwd: dir,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    daemon = child;
    child.stdout.on('data', (chunk: Buffer) => (banner += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (banner += chunk.toString()));
    await waitFor(
      'ferry up -c site.yaml to be up',
      () => {
        if (child.exitCode !== null) throw new Error(`ferry up exited:\n${banner}`);
        return banner.includes('Ferry is up');
      },
      60_000,
    );
  }, 90_000);

  afterAll(async () => {
    if (daemon && daemon.exitCode === null && daemon.signalCode === null) {
      const gone = new Promise((resolve) => daemon!.once('exit', resolve));
      daemon.kill('SIGKILL');
      await gone;
    }
    if (dir) {
      await ferry(['down', '-c', 'site.yaml']);
      expect(markedPids(state)).toEqual([]);
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("ferry up's banner prints commands that work as printed", async () => {
    const printed = banner
      .split('\n')
      .map((line) => line.trim())
      .filter((line) => /^ferry (status|history)\b/.test(line));
    expect(printed).toEqual(['ferry status -c site.yaml', 'ferry history hello -c site.yaml']);
    for (const line of printed) {
      const result = await ferry(line.split(' ').slice(1));
      expect(result.code, `${line}: ${result.stderr}`).toBe(0);
      expect(result.stdout).toContain('1.0.0');
    }
    expect(banner).toContain(`API:  http://127.0.0.1:${apiPort}  (token: ${path.join(state, 'api-token')})`);
  });

  it('reads ./ferry.yaml without -c; without a configuration, says where it looked', async () => {
    const elsewhere = path.join(dir, 'elsewhere');
    mkdirSync(elsewhere);
    const lost = await ferry(['status'], { cwd: elsewhere });
    expect(lost.code).toBe(1);
    expect(lost.stderr).toContain(
      `no Ferry daemon found: ${path.join(dir, 'user', '.ferry')} (data directory from the default) has no daemon.json, and no ferry.yaml here names an API address (-c FILE)`,
    );
    const named = await ferry(['status', '--json', '-c', path.join(dir, 'site.yaml')], { cwd: elsewhere });
    expect(named.code, named.stderr).toBe(0);
    expect((JSON.parse(named.stdout) as StatusResponse).apps[0]).toMatchObject({
      app: 'hello',
      current: '1.0.0',
    });

    const project = path.join(dir, 'project');
    mkdirSync(project);
    // data_dir is relative to the file: ./state of project/ is not the daemon's.
    writeFileSync(
      path.join(project, 'ferry.yaml'),
      `data_dir: ../state\napi: { listen: "127.0.0.1:${apiPort}" }\n`,
    );
    const found = await ferry(['status', '--json'], { cwd: project });
    expect(found.code, found.stderr).toBe(0);
  });

  it('an app the daemon does not know: the error says which daemon was asked and why that one', async () => {
    const unknown = await ferry(['deploy', 'nope', '1.0.0', '-c', 'site.yaml']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toBe(
      `ferry: no app named "nope" is configured (known: hello)\n` +
        `  asked the daemon at http://127.0.0.1:${apiPort} (from ${path.join(state, 'daemon.json')}; data directory from data_dir in site.yaml)\n` +
        `  (FERRY_E_APP_UNKNOWN)\n`,
    );
  });

  it('FERRY_HOME, --home and --url win over the configuration', async () => {
    const other = path.join(dir, 'other-home');
    const byEnv = await ferry(['status', '-c', 'site.yaml'], { env: { FERRY_HOME: other } });
    expect(byEnv.code).toBe(2);
    expect(byEnv.stderr).toContain(
      `no API token for the daemon at http://127.0.0.1:${apiPort}: expected ${path.join(other, 'api-token')} (data directory from FERRY_HOME) or FERRY_TOKEN`,
    );
    const byFlag = await ferry(['status', '-c', 'site.yaml', '--home', other]);
    expect(byFlag.stderr).toContain('(data directory from --home)');

    const closed = await freePort();
    const byUrl = await ferry(['status', '-c', 'site.yaml', '--url', `http://127.0.0.1:${closed}`]);
    expect(byUrl.code).toBe(1);
    expect(byUrl.stderr).toMatch(/^ferry: no Ferry daemon answers \(connect ECONNREFUSED 127\.0\.0\.1:\d+\)/);
    expect(byUrl.stderr).toContain(`asked the daemon at http://127.0.0.1:${closed} (--url)`);
    const byUrlEnv = await ferry(['status', '-c', 'site.yaml'], {
      env: { FERRY_URL: `http://127.0.0.1:${closed}` },
    });
    expect(byUrlEnv.stderr).toContain(`asked the daemon at http://127.0.0.1:${closed} (FERRY_URL)`);
  });

  it('with the daemon stopped: names the address from api.listen and the command that starts it; ferry down says what it stopped', async () => {
    const child = daemon!;
    const gone = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    await gone;
    daemon = null;

    const stopped = await ferry(['status', '-c', 'site.yaml']);
    expect(stopped.code).toBe(1);
    expect(stopped.stderr).toContain('start one with: ferry up -c site.yaml');
    expect(stopped.stderr).toContain(
      `asked the daemon at http://127.0.0.1:${apiPort} (api.listen in site.yaml)`,
    );

    // The router and the instance keep serving after the daemon stopped: down stops those, and
    // names no daemon.
    const down = await ferry(['down', '-c', 'site.yaml']);
    expect(down.code, down.stderr).toBe(0);
    expect(down.stdout).toMatch(/^stopped: 1 instance\(s\), router \(pid \d+\)\n$/);
    expect(markedPids(state)).toEqual([]);
    const again = await ferry(['down', '-c', 'site.yaml']);
    expect(again.stdout).toBe(`nothing was running from ${state}\n`);
  });
});
