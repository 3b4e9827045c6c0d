import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AppStatus, StatusResponse } from '../../src/api/types.js';
import { createHarness, type CliProcess, type FerryHarness } from '../support/ferry.js';
import { waitFor } from '../support/wait.js';

/**
 * Following what happens through the real binary against a real daemon: status --watch on the
 * event stream, show --follow attaching to a running deployment, --wait across a daemon kill -9
 * and restart, Ctrl-C on --wait, logs -f across a deployment. Deployments are held where the test
 * wants them by -gated releases (unhealthy until the test opens their gate), never by timing.
 */
describe('following', () => {
  let ferry: FerryHarness;

  beforeAll(async () => {
    ferry = await createHarness({
      extraVersions: ['1.1.0', '1.1.0-gated', '1.2.0-gated', '1.3.0'],
      // A gated release waits for its gate as long as the test wants.
      health: 'start_period: 10m',
      healthDeadline: '10m',
    });
    await ferry.start();
  });

  afterAll(async () => {
    await ferry?.cleanup();
  });

  const app = async (): Promise<AppStatus> => (await ferry.json<StatusResponse>('status', 'hello')).apps[0]!;

  async function waitForPhase(id: string, phase: string): Promise<void> {
    await waitFor(`deployment ${id} in phase ${phase}`, async () => {
      const { deployment } = await app();
      return deployment?.id === id && deployment.phase === phase;
    });
  }

  /** Lines of the output that appear more than once (each event must be printed once). */
  const repeated = (text: string): string[] => {
    const lines = text.split('\n').filter((line) => line.trim() !== '');
    return lines.filter((line, i) => lines.indexOf(line) !== i);
  };

  async function interrupt(cli: CliProcess): Promise<number | null> {
    cli.child.kill('SIGINT');
    return cli.exited;
  }

  it('status --watch shows a deployment as it happens, from the event stream, and Ctrl-C exits 0', async () => {
    const watch = ferry.spawnCli('status', '--watch');
    await waitFor('the first status', () => watch.stdout().includes('hello'), 60_000);
    const before = watch.stdout();
    const deployed = await ferry.cli('deploy', 'hello', '1.1.0', '--wait');
    expect(deployed.code, deployed.stderr).toBe(0);
    const id = /^(d-\w+)/.exec(deployed.stdout)?.[1];
    expect(id).toBeDefined();
    await waitFor(
      'the watch to show the deployment succeeded',
      () =>
        watch.stdout().includes(`deployment ${id!}`) &&
        /-> 1\.1\.0 \(blue-green\) succeeded/.test(watch.stdout()),
    );
    // Shown again at changes (each render starts with "--- time what"), not once at the end only.
    const renders = watch.stdout().slice(before.length).match(/^--- /gm) ?? [];
    expect(renders.length).toBeGreaterThan(1);
    expect(await interrupt(watch)).toBe(0);
  });

  it('Ctrl-C on --wait says the deployment goes on and how to follow it; show --follow attaches and ends with it', async () => {
    ferry.closeGate();
    const wait = ferry.spawnCli('deploy', 'hello', '1.1.0-gated', '--wait', '--home', ferry.home);
    await waitFor('the wait to show the instances starting', () =>
      wait.stdout().includes('starting 2 instance(s)'),
    );
    const id = /^(d-\w+)/.exec(wait.stdout())?.[1];
    expect(id).toBeDefined();
    expect(await interrupt(wait)).toBe(130);
    expect(wait.stderr()).toContain(`deployment ${id!} of hello goes on`);
    const printed = /follow it again with: (.+)$/m.exec(wait.stderr())?.[1];
    expect(printed).toBe(`ferry show ${id!} --follow --home ${ferry.home}`);
    expect((await app()).deployment).toMatchObject({ id, status: 'running', phase: 'starting' });

    // The printed command, as printed: what happened so far, then the rest until it ends.
    const follow = ferry.spawnCli(...printed!.split(' ').slice(1));
    await waitFor('show --follow to print the events so far', () =>
      follow.stdout().includes('starting 2 instance(s) of 1.1.0-gated'),
    );
    ferry.openGate();
    expect(await follow.exited).toBe(0);
    expect(follow.stdout()).toMatch(/deployment d-\w+ succeeded: 1\.1\.0 -> 1\.1\.0-gated/);
    expect(repeated(follow.stdout())).toEqual([]);
    // A finished deployment: shown, and its outcome as the exit code.
    const done = await ferry.cli('show', id!, '--follow');
    expect(done.code, done.stderr).toBe(0);
    expect(done.stdout).toContain('events:');
  });

  it('--wait survives a kill -9 and restart of the daemon, printing each event once', async () => {
    ferry.closeGate();
    const wait = ferry.spawnCli('deploy', 'hello', '1.2.0-gated', '--wait');
    await waitFor('the wait to show the instances starting', () =>
      wait.stdout().includes('starting 2 instance(s)'),
    );
    const id = /^(d-\w+)/.exec(wait.stdout())!.at(1)!;
    await waitForPhase(id, 'starting');
    const beforeKill = wait.stdout();
    await ferry.kill9();
    await ferry.startServing();
    ferry.openGate();
    expect(await wait.exited, wait.stderr()).toBe(0);
    const out = wait.stdout();
    expect(out.startsWith(beforeKill)).toBe(true);
    expect(out).toMatch(/deployment d-\w+ succeeded: 1\.1\.0-gated -> 1\.2\.0-gated/);
    // The restarted daemon's stream resumed after the last event printed: none twice.
    expect(repeated(out)).toEqual([]);
    expect(out.match(/starting 2 instance\(s\) of 1\.2\.0-gated/g)).toHaveLength(1);
  });

  it('logs -f shows the lines of the instances a deployment starts after it began, with time, instance and version', async () => {
    const logs = ferry.spawnCli('logs', 'hello', '-f', '-n', '5');
    await waitFor('the recent lines', () => logs.stdout().includes('1.2.0-gated'), 60_000);
    const deployed = await ferry.cli('deploy', 'hello', '1.3.0', '--wait');
    expect(deployed.code, deployed.stderr).toBe(0);
    const instances = (await app()).instances.map((i) => i.id);
    expect(instances).toHaveLength(2);
    const line = (instance: string) =>
      new RegExp(
        `^\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{3}Z ${instance} 1\\.3\\.0 \\| hello 1\\.3\\.0 listening on `,
        'm',
      );
    await waitFor('the new instances\u2019 first lines', () =>
      instances.every((i) => line(i).test(logs.stdout())),
    );
    expect(await interrupt(logs)).toBe(0);
  });
});
