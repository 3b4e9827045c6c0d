import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { requireProgram } from '../../src/lib/test-support/required-program.js';

const SCRIPT = path.resolve(import.meta.dirname, '../../scripts/test-deps.mjs');
const NOBODY = 65534;

let bin: string;
afterEach(() => bin && rmSync(bin, { recursive: true, force: true }));

/** A PATH holding only `present` (symlinks to the real programs): the others look missing. */
function pathWith(...present: string[]): string {
  bin = mkdtempSync(path.join(os.tmpdir(), 'ferry-test-deps-'));
  chmodSync(bin, 0o755); // searched by another user too
  for (const command of present) {
    const real = spawnSync('sh', ['-c', `command -v ${command}`], { encoding: 'utf8' }).stdout.trim();
    symlinkSync(real, path.join(bin, command));
  }
  return bin;
}

function runScript(args: string[], env: NodeJS.ProcessEnv, uid?: number) {
  const result = spawnSync(process.execPath, [SCRIPT, ...args], {
    env,
    encoding: 'utf8',
    ...(uid === undefined ? {} : { uid, gid: uid }),
  });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

describe('scripts/test-deps.mjs', () => {
  it('names what is missing, its Debian package and the command that installs it, and fails', () => {
    const result = runScript(['--check'], { PATH: pathWith('rsync', 'openssl'), CI: 'true' });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('serf (Debian package serf), for test/e2e/serf.test.ts');
    expect(result.stderr).toContain('etcd (Debian package etcd-server), for src/store/kv/etcd-kv.test.ts');
    expect(result.stderr).toContain('python3 (Debian package python3)');
    expect(result.stderr).not.toContain('rsync (Debian package');
    expect(result.stderr).toContain('install them as root with: apt-get install -y serf etcd-server python3');
  });

  it.runIf(process.getuid?.() === 0)('fails without root instead of installing anything', () => {
    const result = runScript([], { PATH: pathWith('serf', 'rsync', 'openssl', 'etcd') }, NOBODY);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('(installing them needs root)');
    expect(result.stderr).toContain('apt-get install -y python3');
  });

  it('passes quietly when everything is there', () => {
    const result = runScript(['--check'], {
      PATH: pathWith('serf', 'rsync', 'openssl', 'etcd', 'python3', 'ip'),
    });
    expect(result).toMatchObject({ code: 0, stderr: '' });
    expect(result.stdout).toBe('test-deps: serf, rsync, openssl, etcd, python3, ip present\n');
  });

  it.runIf(existsSync('/usr/sbin/ip'))("finds iproute2's ip in /usr/sbin, which a user's PATH omits", () => {
    const result = runScript(['--check'], { PATH: pathWith('serf', 'rsync', 'openssl', 'etcd', 'python3') });
    expect(result).toMatchObject({ code: 0, stderr: '' });
    expect(result.stdout).toBe('test-deps: serf, rsync, openssl, etcd, python3, ip present\n');
  });
});

describe('requireProgram', () => {
  it('fails a test clearly when a program it runs is missing, pointing at the setup script', () => {
    expect(() => requireProgram('sh')).not.toThrow();
    expect(() => requireProgram('ferry-no-such-program')).toThrow(
      /ferry-no-such-program is not installed, and this test runs it: `npm test` installs what the tests need \(scripts\/test-deps\.mjs/,
    );
  });
});
