import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readDaemonInfo } from '../../src/api/discovery.js';
import { createHarness, type FerryHarness } from '../support/ferry.js';
import { waitFor } from '../support/wait.js';

const BIN = path.resolve(import.meta.dirname, '../../bin/ferry.js');

/**
 * `ferry up` in the foreground of a terminal (a pseudo-terminal made by script(1)): the daemon's
 * log shows there as readable lines, while daemon.log keeps JSON.
 */
describe('the daemon log on a terminal', () => {
  let ferry: FerryHarness;
  let terminal: ChildProcess;
  let shown = '';

  beforeAll(async () => {
    ferry = await createHarness({ instances: 1 });
    const command = `${process.execPath} ${BIN} up --config ${ferry.configPath}`;
    terminal = spawn('script', ['-qfec', command, '/dev/null'], {
      env: { ...process.env, FERRY_HOME: ferry.home, NO_COLOR: '1', TERM: 'dumb' },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    terminal.stdout!.on('data', (chunk: Buffer) => (shown += chunk.toString()));
    await waitFor('ferry up on the terminal to be up', () => shown.includes('Ferry is up'), 90_000);
  });

  afterAll(async () => {
    const info = ferry ? readDaemonInfo(ferry.home) : undefined;
    if (info) process.kill(info.pid, 'SIGKILL');
    terminal?.kill('SIGKILL');
    await ferry?.cleanup();
  });

  it('prints one readable line per log entry, the JSON stays in daemon.log, the token nowhere', () => {
    const lines = shown.replaceAll('\r', '').split('\n');
    const deployed = lines.find((line) => line.includes('succeeded: done'));
    expect(deployed, shown).toMatch(
      /^\d\d:\d\d:\d\d\.\d{3} INFO {2}\[hello\/.*\] succeeded: done deployment=d-[0-9a-f]+$/,
    );
    expect(
      lines.some((line) => / INFO {2}\[hello\/.*\] health changed instance=hello-1\.0\.0-/.test(line)),
    ).toBe(true);
    expect(shown).not.toContain('{"level"');
    // The plain event lines of a non-terminal `ferry up` are not repeated.
    expect(lines.some((line) => line.startsWith('  [d-'))).toBe(false);
    const log = readFileSync(path.join(ferry.home, 'daemon.log'), 'utf8').trim().split('\n');
    const entry = JSON.parse(log.find((line) => line.includes('succeeded: done'))!) as Record<
      string,
      unknown
    >;
    expect(entry).toMatchObject({ level: 30, msg: 'succeeded: done', app: 'hello' });
    const token = readFileSync(path.join(ferry.home, 'api-token'), 'utf8').trim();
    expect(shown).not.toContain(token);
  });
});
