import { chmodSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseConfig } from '../config/load.js';
import { isFerryError } from '../errors/ferry-error.js';
import type { RunAccount } from '../supervisor/index.js';
import { protectDataDir } from './data-dir-access.js';
import { daemonPaths } from './paths.js';

const nobody: RunAccount = { uid: 65534, gid: 65534, name: 'nobody', home: '/nonexistent' };

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'ferry-data-dir-')); // 0700, like many parents
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function setUp() {
  const home = path.join(dir, 'home');
  mkdirSync(home, { mode: 0o700 });
  for (const file of ['api-token', 'ferry.db', 'ferry.db-wal', 'daemon.log'])
    writeFileSync(path.join(home, file), 'x');
  const config = parseConfig(
    `apps:\n  hello:\n    artifact: { url: x }\n    run: { command: node }\n    listen: 8080\n`,
    { configPath: null, env: { FERRY_HOME: home } },
  );
  const mode = (...parts: string[]) => statSync(path.join(home, ...parts)).mode & 0o777;
  return { paths: daemonPaths(home), config, mode };
}

describe('protectDataDir', () => {
  it('keeps everything owner-only without app accounts', () => {
    const { paths, config, mode } = setUp();
    protectDataDir(paths, config, new Map());
    expect(mode()).toBe(0o700);
    for (const file of ['api-token', 'ferry.db', 'ferry.db-wal', 'daemon.log'])
      expect(mode(file)).toBe(0o600);
    for (const sub of ['router', 'cache', 'apps/hello/production/logs']) expect(mode(sub)).toBe(0o700);
  });

  it('with an app account, opens the path to the releases and nothing else', () => {
    chmodSync(dir, 0o711);
    const { paths, config, mode } = setUp();
    protectDataDir(paths, config, new Map([['hello', nobody]]));
    for (const sub of ['', 'apps', 'apps/hello', 'apps/hello/production', 'apps/hello/production/releases'])
      expect(mode(sub), sub).toBe(0o711);
    for (const sub of ['router', 'cache', 'apps/hello/production/logs']) expect(mode(sub), sub).toBe(0o700);
    expect(mode('api-token')).toBe(0o600);
  });

  it('names the directory above the data directory that keeps the app user out', () => {
    const { paths, config } = setUp();
    try {
      protectDataDir(paths, config, new Map([['hello', nobody]]));
      expect.unreachable();
    } catch (error) {
      expect(isFerryError(error, 'FERRY_E_DATA_DIR')).toBe(true);
      expect((error as Error).message).toBe(
        `apps.hello.run.user: expected user nobody (uid 65534) to reach the data directory ${paths.home}, got ${dir} is mode 0700, owned by uid ${process.getuid!()}; allow it through (chmod o+x ${dir}) or move data_dir`,
      );
    }
  });
});
