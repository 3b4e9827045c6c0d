import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assertBuilt, freePort } from '../support/ferry.js';
import { waitFor } from '../support/wait.js';

const ROOT = path.resolve(import.meta.dirname, '../..');
const BIN = path.join(ROOT, 'bin', 'ferry.js');
const run = promisify(execFile);

/**
 * `ferry init` in an app's directory writes a ferry.yaml that passes `ferry config check` and runs
 * with `ferry up`: a release built as its comments say deploys and serves through the router.
 */
describe('ferry init', () => {
  let dir: string;
  let home: string;
  let up: ChildProcess | null = null;

  const ferry = async (...args: string[]) => {
    try {
      const { stdout, stderr } = await run(process.execPath, [BIN, ...args], {
        cwd: dir,
        env: { ...process.env, FERRY_HOME: home },
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

  beforeAll(() => {
    assertBuilt();
    dir = mkdtempSync(path.join(os.tmpdir(), 'ferry-init-'));
    home = path.join(dir, '.ferry-home');
    // An app of its own: hello's server, reading its VERSION file.
    const app = path.join(dir, 'shop');
    mkdirSync(app);
    copyFileSync(path.join(ROOT, 'examples/hello/app/server.mjs'), path.join(app, 'server.mjs'));
    dir = app;
  });

  afterAll(async () => {
    if (up && up.exitCode === null) {
      const gone = new Promise((resolve) => up!.once('exit', resolve));
      up.kill('SIGKILL');
      await gone;
    }
    await ferry('down');
    rmSync(path.dirname(dir), { recursive: true, force: true });
  });

  it('writes a commented ferry.yaml that config check accepts, refuses to overwrite it, and runs with ferry up', async () => {
    const appPort = await freePort();
    const written = await ferry('init', '--port', String(appPort), '--health', '/healthz');
    expect(written.code, written.stderr).toBe(0);
    const file = path.join(dir, 'ferry.yaml');
    const text = readFileSync(file, 'utf8');
    expect(text).toContain('# ferry.yaml for shop, written by `ferry init`');
    expect(text).toContain('guessed from server.mjs');

    const check = await ferry('config', 'check');
    expect(check.code, check.stderr).toBe(0);
    expect(check.stdout).toContain('1 app(s) (shop)');

    const again = await ferry('init');
    expect(again.code).toBe(2);
    expect(again.stderr).toContain('exists already; ferry init never overwrites it without --force');
    expect(readFileSync(file, 'utf8')).toBe(text);

    // A release as the file's comments say; the API on a free port (tests run side by side).
    writeFileSync(path.join(dir, 'VERSION'), '1.0.0\n');
    mkdirSync(path.join(dir, 'dist'));
    await run('tar', ['czf', 'dist/shop-1.0.0.tar.gz', '--exclude=./dist', '--exclude=./ferry.yaml', '.'], {
      cwd: dir,
    });
    const apiPort = await freePort();
    writeFileSync(
      file,
      text.replace('# api:\n#   listen: 127.0.0.1:7070', `api:\n  listen: 127.0.0.1:${apiPort}`),
    );

    let output = '';
    up = spawn(process.execPath, [BIN, 'up'], { cwd: dir, env: { ...process.env, FERRY_HOME: home } });
    up.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    up.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    await waitFor('ferry up to be up', () => output.includes('Ferry is up') || up!.exitCode !== null, 60_000);
    expect(output).toContain('Ferry is up');
    const deployed = await ferry('deploy', 'shop', '1.0.0', '--wait');
    expect(deployed.code, deployed.stdout + deployed.stderr).toBe(0);
    const response = await fetch(`http://127.0.0.1:${appPort}/`);
    expect(await response.text()).toBe('hello from 1.0.0\n');
  }, 120_000);
});
