import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createToken, readDaemonInfo, readTokenFile } from './discovery.js';

/** What `work` threw; fails the test when it threw nothing. */
function thrown(work: () => unknown): unknown {
  try {
    work();
  } catch (error) {
    return error;
  }
  throw new Error('expected the call to throw');
}

let home: string;
beforeEach(() => {
  home = mkdtempSync(path.join(os.tmpdir(), 'ferry-discovery-'));
});
afterEach(() => {
  rmSync(home, { recursive: true, force: true });
});

describe('the API token file', () => {
  it('is created owner-only on first use and read back', () => {
    expect(readTokenFile(home)).toBeUndefined();
    const token = createToken(home);
    expect(token).toMatch(/^[\w-]{32}$/);
    expect(statSync(path.join(home, 'api-token')).mode & 0o777).toBe(0o600);
    expect(readTokenFile(home)).toBe(token);
  });

  it('is refused when empty or only whitespace, and never replaced', () => {
    const file = path.join(home, 'api-token');
    for (const content of ['', ' \n\t\n']) {
      writeFileSync(file, content);
      expect(thrown(() => readTokenFile(home))).toMatchObject({
        code: 'FERRY_E_TOKEN_FILE',
        message: expect.stringContaining(`the API token file ${file} is empty`),
      });
      expect(readFileSync(file, 'utf8')).toBe(content);
    }
  });

  it('is refused when it cannot be read', () => {
    mkdirSync(path.join(home, 'api-token'));
    expect(thrown(() => readTokenFile(home))).toMatchObject({
      code: 'FERRY_E_TOKEN_FILE',
      message: expect.stringContaining('cannot be read (EISDIR)'),
    });
  });
});

describe('daemon.json', () => {
  it('reads the start time, and null for a file written by an older Ferry', () => {
    const file = path.join(home, 'daemon.json');
    writeFileSync(
      file,
      JSON.stringify({ pid: 42, pidStart: 7, url: 'http://x', startedAt: 1, version: '1' }),
    );
    expect(readDaemonInfo(home)).toEqual({
      pid: 42,
      pidStart: 7,
      url: 'http://x',
      startedAt: 1,
      version: '1',
    });
    writeFileSync(file, JSON.stringify({ pid: 42, url: 'http://x', startedAt: 1, version: '0.1' }));
    expect(readDaemonInfo(home)?.pidStart).toBeNull();
    writeFileSync(file, '{"pid": "nope"}');
    expect(readDaemonInfo(home)).toBeUndefined();
  });
});
