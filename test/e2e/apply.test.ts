import { readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AppStatus, ConfigApplyResponse, ConfigPlanView, StatusResponse } from '../../src/api/types.js';
import { createHarness, freePort, type FerryHarness } from '../support/ferry.js';
import { startLoad } from '../support/load.js';
import { waitFor } from '../support/wait.js';

/** The variables an instance process was started with (its environment in /proc). */
function environOf(pid: number): Map<string, string> {
  const vars = new Map<string, string>();
  for (const entry of readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0')) {
    const eq = entry.indexOf('=');
    if (eq > 0) vars.set(entry.slice(0, eq), entry.slice(eq + 1));
  }
  return vars;
}

/** Whether a new connection to the port is refused (nothing listens there any more). */
function isRefused(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', (error: NodeJS.ErrnoException) => resolve(error.code === 'ECONNREFUSED'));
  });
}

/**
 * `ferry apply` and SIGHUP against a real daemon: what the file says is what runs. Changed
 * variables replace the instances under load with no failed request; an app left out of the file
 * keeps running and stays visible until --prune; an invalid file or a setting the daemon cannot
 * change live changes nothing; a daemon restarted on a changed file applies it too.
 */
describe('ferry apply', () => {
  let ferry: FerryHarness;
  let secondPort: number;
  const SECRET = 'pw-APPLY-5e1f';

  beforeAll(async () => {
    ferry = await createHarness({ instances: 2 });
    secondPort = await freePort();
    await ferry.start();
  });

  afterAll(async () => {
    await ferry?.cleanup();
  });

  const edit = (change: (text: string) => string) =>
    writeFileSync(ferry.configPath, change(readFileSync(ferry.configPath, 'utf8')));
  const withVars = (vars: string) =>
    edit((text) =>
      text.replace(
        /env: \{ (GREETING: [^,]+, DB_PASSWORD: [^,]+, )?HELLO_GATE/,
        `env: { ${vars}, HELLO_GATE`,
      ),
    );
  const status = async () => ferry.json<StatusResponse>('status');
  const app = async (name: string): Promise<AppStatus | undefined> =>
    (await status()).apps.find((a) => a.app === name);
  const pidsOf = async (name: string) =>
    ((await app(name))?.instances ?? []).map((i) => i.pid!).sort((a, b) => a - b);
  const apply = (...flags: string[]) => ferry.cli('apply', '-c', ferry.configPath, ...flags);
  const secondApp = (initial: string) => `  hello2:
    artifact: { url: "dist/hello-{version}.tar.gz", checksums: dist/SHA256SUMS }
    initial_release: ${initial}
    run: { command: node, args: [server.mjs] }
    instances: 1
    listen: "127.0.0.1:${secondPort}"
    health: { http: { path: /healthz }, interval: 100ms, healthy_threshold: 2 }
`;

  it('an invalid file changes nothing, and says what is wrong', async () => {
    const before = await pidsOf('hello');
    const good = readFileSync(ferry.configPath, 'utf8');
    edit((text) => text.replace('instances: 2', 'instances: zero'));
    const result = await apply('--yes');
    writeFileSync(ferry.configPath, good);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('FERRY_E_CONFIG_INVALID');
    expect(result.stderr).toContain('apps.hello.instances');
    expect(await pidsOf('hello')).toEqual(before);
  });

  it('a setting the daemon took at start is refused by name, and nothing changes', async () => {
    const before = await pidsOf('hello');
    const good = readFileSync(ferry.configPath, 'utf8');
    withVars('GREETING: refused');
    edit((text) => text.replace(`127.0.0.1:${ferry.apiPort}`, `127.0.0.1:${ferry.apiPort + 1}`));
    const result = await apply('--yes');
    writeFileSync(ferry.configPath, good);
    expect(result.code, result.stderr).toBe(2);
    expect(result.stderr).toMatch(/api\.listen: the daemon took it at start/);
    expect(result.stderr).toContain('FERRY_E_CONFIG_NEEDS_RESTART');
    expect(await pidsOf('hello')).toEqual(before);
  });

  it('a changed run.env: the plan names the variables (never their values), and applying replaces every instance under load with 0 failed', async () => {
    const before = await pidsOf('hello');
    withVars(`GREETING: one, DB_PASSWORD: ${SECRET}`);
    const dryRun = await apply('--dry-run');
    expect(dryRun.code, dryRun.stderr).toBe(0);
    expect(dryRun.stdout).toContain('-/+ hello (production): replaces the instances of 1.0.0');
    expect(dryRun.stdout).toContain('run.env.DB_PASSWORD');
    expect(dryRun.stdout).not.toContain(SECRET);
    expect(await pidsOf('hello')).toEqual(before);
    const plan = await ferry.json<ConfigPlanView>('apply', '-c', ferry.configPath, '--dry-run');
    expect(plan.changes).toEqual([
      expect.objectContaining({
        app: 'hello',
        action: 'replace',
        fields: ['run.env.DB_PASSWORD', 'run.env.GREETING'],
      }),
    ]);
    // Without --yes and without a terminal to ask on: refused, nothing changes.
    const unconfirmed = await apply();
    expect(unconfirmed.code).toBe(2);
    expect(unconfirmed.stderr).toContain('pass --yes');

    const load = startLoad(`http://127.0.0.1:${ferry.appPort}/`, { connections: 4 });
    await waitFor('load to flow', () => load.report.requests > 100);
    const applied = await apply('--yes', '--wait');
    const report = await load.stop();
    expect(applied.code, applied.stdout + applied.stderr).toBe(0);
    expect(applied.stdout).toMatch(/restart succeeded: 2 new instance\(s\) of 1\.0\.0/);
    expect(applied.stdout + applied.stderr).not.toContain(SECRET);
    expect(report.failures, report.samples.join('\n')).toBe(0);
    expect(report.requests).toBeGreaterThan(100);
    const after = await pidsOf('hello');
    expect(after).toHaveLength(2);
    for (const pid of after) {
      expect(before).not.toContain(pid);
      expect(environOf(pid).get('GREETING')).toBe('one');
    }
    expect((await app('hello'))?.deployment).toMatchObject({ kind: 'restart', status: 'succeeded' });
    // Applied: the same file again plans nothing.
    expect((await apply('--dry-run')).stdout).toContain('No changes');
  }, 180_000);

  it('an app added to the file starts with its initial_release', async () => {
    edit((text) => `${text}${secondApp('1.1.0')}`);
    const result = await ferry.json<ConfigApplyResponse>('apply', '-c', ferry.configPath, '--yes');
    expect(result.plan.changes).toEqual([expect.objectContaining({ app: 'hello2', action: 'add' })]);
    expect(result.deployments).toEqual([expect.objectContaining({ app: 'hello2', to: '1.1.0' })]);
    await waitFor('hello2 to serve 1.1.0', async () => (await app('hello2'))?.current === '1.1.0', 60_000);
    const response = await fetch(`http://127.0.0.1:${secondPort}/`);
    expect(await response.text()).toBe('hello from 1.1.0\n');
  }, 120_000);

  it('an app removed from the file keeps running and stays in status as not in config, also after a daemon restart', async () => {
    edit((text) => text.slice(0, text.indexOf('  hello2:')));
    const pids = await pidsOf('hello2');
    const result = await apply('--yes');
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain(
      '=   hello2 (production): keeps running as "not in config" (would stop with --prune)',
    );
    expect((await app('hello2'))?.inConfig).toBe(false);
    expect((await ferry.cli('status')).stdout).toMatch(/hello2 \(production\).*NOT IN CONFIG/);
    expect(await pidsOf('hello2')).toEqual(pids);

    await ferry.kill9();
    await ferry.start();
    const after = await app('hello2');
    expect(after).toMatchObject({ inConfig: false, current: '1.1.0' });
    expect(after?.instances.map((i) => i.pid)).toEqual(pids);
    await waitFor(
      'hello2 healthy again',
      async () => (await app('hello2'))?.instances[0]?.health === 'healthy',
    );
    expect((await fetch(`http://127.0.0.1:${secondPort}/`)).status).toBe(200);
    expect((await app('hello'))?.inConfig).toBe(true);
  }, 120_000);

  it('SIGHUP applies the file the daemon was started with (without pruning)', async () => {
    const before = await pidsOf('hello');
    withVars(`GREETING: two, DB_PASSWORD: ${SECRET}`);
    ferry.daemon!.kill('SIGHUP');
    await waitFor(
      'the instances replaced after SIGHUP',
      async () => {
        const now = await pidsOf('hello');
        return (
          now.length === 2 &&
          now.every((pid) => !before.includes(pid) && environOf(pid).get('GREETING') === 'two')
        );
      },
      60_000,
    );
    await waitFor('the daemon to say what SIGHUP applied', () =>
      /\[config\] configuration from \S+ferry\.yaml applied \(reload\): .*keep hello2 \(production\)/.test(
        ferry.output,
      ),
    );
    expect(ferry.output).not.toContain(SECRET);
    expect((await app('hello2'))?.inConfig).toBe(false);
  }, 120_000);

  it('a daemon restarted on a changed file replaces the instances that run the old run.env', async () => {
    const load = startLoad(`http://127.0.0.1:${ferry.appPort}/`, { connections: 4 });
    await waitFor('load to flow', () => load.report.requests > 100);
    const before = await pidsOf('hello');
    await ferry.kill9();
    withVars(`GREETING: three, DB_PASSWORD: ${SECRET}`);
    await ferry.start();
    const report = await load.stop();
    expect(report.failures, report.samples.join('\n')).toBe(0);
    const after = await pidsOf('hello');
    expect(after).toHaveLength(2);
    for (const pid of after) {
      expect(before).not.toContain(pid);
      expect(environOf(pid).get('GREETING')).toBe('three');
    }
    expect((await app('hello'))?.deployment).toMatchObject({ kind: 'restart', status: 'succeeded' });
  }, 180_000);

  it('--prune stops the apps that left the file', async () => {
    const pids = await pidsOf('hello2');
    const result = await apply('--prune', '--yes');
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain('-   hello2 (production): drains and stops its instances');
    expect(await app('hello2')).toBeUndefined();
    for (const pid of pids) expect(ferry.instancePids()).not.toContain(pid);
    expect(await isRefused(secondPort)).toBe(true);
    expect(ferry.instancePids()).toHaveLength(2);
  }, 120_000);

  it('an app added without a release holds its address when apply answers, and a changed listen moves it at once', async () => {
    const thirdPort = await freePort();
    // hello3: never deployed (hello2 has a current release, which it would start again).
    const third = secondApp('1.1.0')
      .replace('    initial_release: 1.1.0\n', '')
      .replace('hello2:', 'hello3:');
    edit((text) => `${text}${third}`);
    const added = await apply('--yes');
    expect(added.code, added.stderr).toBe(0);
    expect(added.stdout).toContain('+   hello3 (production): serves nothing until a release is deployed');
    expect(await isRefused(secondPort)).toBe(false);
    expect(await app('hello3')).toMatchObject({ inConfig: true, current: null });

    edit((text) => text.replace(`127.0.0.1:${secondPort}`, `127.0.0.1:${thirdPort}`));
    const moved = await apply('--yes');
    expect(moved.code, moved.stderr).toBe(0);
    expect(moved.stdout).toContain('hello3 (production): applies the router settings at once');
    expect(await isRefused(thirdPort)).toBe(false);
    expect(await isRefused(secondPort)).toBe(true);

    const deployed = await ferry.cli('deploy', 'hello3', '1.1.0', '--wait');
    expect(deployed.code, deployed.stderr).toBe(0);
    expect(await (await fetch(`http://127.0.0.1:${thirdPort}/`)).text()).toBe('hello from 1.1.0\n');
  }, 120_000);
});
