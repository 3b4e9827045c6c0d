import { execFile } from 'node:child_process';
import { chmodSync, chownSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHarness, type FerryHarness } from '../support/ferry.js';
import { waitFor } from '../support/wait.js';

const NOBODY = 65534;
const BIN = path.resolve(import.meta.dirname, '../../bin/ferry.js');

/** `denied`, `readable` or `missing`: what the app's user gets when it tries to read a file of the data directory. */
const tryRead = (file: string) => {
  const where = `../../../../../${file}`;
  // "missing" proves the path right: stat needs only the search permission the app user has.
  return `if [ ! -e ${where} ]; then echo missing; elif cat ${where} > /dev/null 2>&1; then echo readable; else echo denied; fi`;
};

// Running as another user needs root; CI runs the suite as root.
describe.runIf(process.getuid?.() === 0)('run.user', () => {
  let ferry: FerryHarness;
  let out: string;

  beforeAll(async () => {
    // Where the app's hook and check (running as nobody) report what they could do.
    out = mkdtempSync(path.join(os.tmpdir(), 'ferry-run-user-'));
    chmodSync(out, 0o777);
    // From the release dir (their cwd), the data directory is five levels up.
    // One file per reporter, replaced whole (the check runs again and again while the test reads).
    const report = (who: string) =>
      `{ id -u; id -G; ${tryRead('api-token')}; ${tryRead('ferry.db')}; ${tryRead('control.db')}; } > ${out}/${who}.$$ && mv ${out}/${who}.$$ ${out}/${who}`;
    ferry = await createHarness({
      instances: 1,
      run: '{ command: node, args: [server.mjs], user: nobody }',
      healthCheck: `command: '${report('check')}; curl -fsS "http://127.0.0.1:$PORT/healthz" > /dev/null'`,
      appExtra: `    hooks: { before_start: ['${report('hook')}'] }\n`,
    });
    // The data directory must be reachable by the app's user: its parent (a 0700 temp dir) lets it through.
    chmodSync(ferry.dir, 0o711);
    await ferry.start();
  });

  afterAll(async () => {
    await ferry?.cleanup();
    rmSync(out, { recursive: true, force: true });
  });

  it('runs instances as that user, without supplementary groups, and they serve', async () => {
    const [pid] = await waitFor('an instance', () => {
      const pids = ferry.instancePids();
      return pids.length > 0 ? pids : null;
    });
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    expect(status).toMatch(new RegExp(`^Uid:\\s+${NOBODY}\\s+${NOBODY}\\s+${NOBODY}\\s+${NOBODY}$`, 'm'));
    expect(status).toMatch(new RegExp(`^Gid:\\s+${NOBODY}\\s+${NOBODY}\\s+${NOBODY}\\s+${NOBODY}$`, 'm'));
    expect(status).toMatch(/^Groups:\s*$/m);
    const response = await fetch(`http://127.0.0.1:${ferry.appPort}/`);
    expect(await response.text()).toBe('hello from 1.0.0\n');
  });

  it('runs hooks and command checks as that user, who cannot read the API token or the store', () => {
    for (const who of ['hook', 'check']) {
      const [uid, groups, token, db, records] = readFileSync(path.join(out, who), 'utf8').trim().split('\n');
      expect({ uid, groups, token, db, records }, who).toEqual({
        uid: String(NOBODY),
        groups: String(NOBODY),
        token: 'denied',
        db: 'denied',
        records: 'denied',
      });
    }
  });

  it('keeps the data directory traversable but its secrets owner-only', () => {
    const mode = (...parts: string[]) => statSync(path.join(ferry.home, ...parts)).mode & 0o777;
    expect(mode()).toBe(0o711);
    for (const file of [
      'api-token',
      'ferry.db',
      'ferry.db-wal',
      'ferry.db-shm',
      'control.db',
      'control.db-wal',
      'control.db-shm',
      'daemon.json',
    ])
      expect(mode(file), file).toBe(0o600);
    for (const dir of ['router', 'cache', 'apps/hello/production/logs']) expect(mode(dir), dir).toBe(0o700);
  });

  it('refuses to start when Ferry is not root and run.user names another user, naming the field', async () => {
    const home = mkdtempSync(path.join(os.tmpdir(), 'ferry-not-root-'));
    chownSync(home, NOBODY, NOBODY);
    const config = path.join(home, 'ferry.yaml');
    writeFileSync(
      config,
      'apps:\n  hello:\n    artifact: { url: "hello-{version}.tar.gz" }\n    run: { command: node, user: root }\n    listen: 1\n',
    );
    chmodSync(config, 0o644);
    try {
      const result = await promisify(execFile)(process.execPath, [BIN, 'up', '--config', config], {
        env: { PATH: process.env.PATH, FERRY_HOME: home },
        uid: NOBODY,
        gid: NOBODY,
      }).then(
        () => ({ code: 0, stderr: '' }),
        (error: { code: number; stderr: string }) => error,
      );
      expect(result.code).toBe(2);
      expect(result.stderr).toContain(
        'apps.hello.run.user: expected Ferry to run as root to run processes as user root (uid 0), got uid 65534',
      );
    } finally {
      // Should it have started after all, nothing of it outlives the test.
      await promisify(execFile)(process.execPath, [BIN, 'down'], {
        env: { ...process.env, FERRY_HOME: home },
      });
      rmSync(home, { recursive: true, force: true });
    }
  });
});
