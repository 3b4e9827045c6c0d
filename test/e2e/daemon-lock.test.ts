import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readPidStart } from '../../src/supervisor/proc.js';
import { createHarness, freePort, type FerryHarness } from '../support/ferry.js';

interface DaemonJson {
  pid: number;
  pidStart?: number;
  url: string;
  startedAt: number;
  version: string;
}

/** One daemon per data directory: a lock held for the daemon's life, and no signal to a stranger. */
describe('ferry up on a data directory', () => {
  let ferry: FerryHarness;
  const strangers: ChildProcess[] = [];

  beforeAll(async () => {
    ferry = await createHarness({ instances: 1 });
  });

  afterAll(async () => {
    for (const stranger of strangers) stranger.kill('SIGKILL');
    await ferry?.cleanup();
  });

  const daemonJson = () =>
    JSON.parse(readFileSync(path.join(ferry.home, 'daemon.json'), 'utf8')) as DaemonJson;

  it('two ferry up started at the same moment: exactly one is up, the other exits 1 naming it', async () => {
    // An empty directory someone made for Ferry (0755): it becomes Ferry's, owner-only.
    mkdirSync(ferry.home, { mode: 0o755 });
    // The same data directory with another API port: only the lock can keep the second one out.
    const other = path.join(ferry.dir, 'other.yaml');
    writeFileSync(
      other,
      readFileSync(ferry.configPath, 'utf8').replace(
        `127.0.0.1:${ferry.apiPort}`,
        `127.0.0.1:${await freePort()}`,
      ),
    );
    const first = ferry.spawnUp();
    const second = ferry.spawnUp('--config', other);
    const outcomes = await Promise.all([first.outcome, second.outcome]);
    const winners = [first, second].filter((_, n) => outcomes[n] === 'up');
    expect(winners, `${first.output()}\n---\n${second.output()}`).toHaveLength(1);
    const winner = winners[0]!;
    const loser = winner === first ? second : first;
    ferry.daemon = winner.child;
    expect(outcomes[winner === first ? 1 : 0]).toEqual({ code: 1 });
    expect(loser.output()).toContain(`pid ${winner.child.pid}`);
    expect(loser.output()).toContain('FERRY_E_DAEMON_RUNNING');
    expect(loser.output()).not.toMatch(/\n\s+at /);

    // daemon.json names the winner with its start time, so nobody signals a reused pid.
    const info = daemonJson();
    expect(info.pid).toBe(winner.child.pid);
    expect(info.pidStart).toBe(readPidStart(winner.child.pid!));
    expect(statSync(ferry.home).mode & 0o777).toBe(0o700);

    // Later, the message names the API address too.
    const late = await ferry.upFails();
    expect(late.code).toBe(1);
    expect(late.output).toContain(`pid ${winner.child.pid}`);
    expect(late.output).toContain(info.url);
    const status = await ferry.cli('status');
    expect(status.code, status.stderr).toBe(0);
  });

  it('a stale daemon.json naming a live unrelated process: ferry down leaves it alive, ferry up starts', async () => {
    const stale = daemonJson();
    await ferry.kill9();
    const stranger = spawn('sleep', ['600'], { stdio: 'ignore' });
    strangers.push(stranger);
    const pid = stranger.pid!;
    const isAlive = () => readPidStart(pid) !== null;

    // The daemon died and its pid now belongs to another process (a reused pid).
    writeFileSync(path.join(ferry.home, 'daemon.json'), JSON.stringify({ ...stale, pid }));
    const down = await ferry.cli('down');
    expect(down.code, down.stderr).toBe(0);
    expect(down.stdout).not.toContain(`daemon (pid ${pid})`);
    expect(isAlive()).toBe(true);

    // A daemon.json from an older Ferry, without a start time: nothing proves the pid is the daemon.
    const { pidStart: _dropped, ...legacy } = { ...stale, pid };
    writeFileSync(path.join(ferry.home, 'daemon.json'), JSON.stringify(legacy));
    const legacyDown = await ferry.cli('down');
    expect(legacyDown.code).toBe(0);
    expect(legacyDown.stderr).toContain(
      `daemon.json names pid ${pid} without its start time (written by an older Ferry): it was not signalled`,
    );
    expect(isAlive()).toBe(true);

    writeFileSync(path.join(ferry.home, 'daemon.json'), JSON.stringify({ ...stale, pid }));
    await ferry.start();
    expect(isAlive()).toBe(true);
    expect(daemonJson().pid).toBe(ferry.daemon!.pid);
    const status = await ferry.cli('status');
    expect(status.code, status.stderr).toBe(0);
  });

  it('ferry down stops the daemon that holds the lock, then its instances and its router', async () => {
    const daemon = ferry.daemon!;
    const exited = new Promise((resolve) => daemon.once('exit', resolve));
    const instances = ferry.instancePids();
    expect(instances).toHaveLength(1);
    const down = await ferry.cli('down');
    expect(down.code, down.stderr).toBe(0);
    expect(down.stdout).toMatch(
      new RegExp(`^stopped: daemon \\(pid ${daemon.pid}\\), 1 instance\\(s\\), router \\(pid \\d+\\)\n$`),
    );
    await exited;
    ferry.daemon = null;
    expect(ferry.instancePids()).toEqual([]);
    // The daemon stopped cleanly: its records are gone, and the next start takes the lock at once.
    expect(existsSync(path.join(ferry.home, 'daemon.json'))).toBe(false);
    expect(existsSync(path.join(ferry.home, 'daemon.lock'))).toBe(false);
  });
});
