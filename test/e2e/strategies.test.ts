import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HistoryResponse, StatusResponse } from '../../src/api/types.js';
import { createHarness, type FerryHarness } from '../support/ferry.js';
import { startLoad } from '../support/load.js';
import { waitFor } from '../support/wait.js';

function readIfExists(file: string): string | null {
  return existsSync(file) ? readFileSync(file, 'utf8') : null;
}

/** all-at-once restarts, hooks and release pruning, end to end. */
describe('all-at-once, hooks and keep_releases', () => {
  let ferry: FerryHarness;

  beforeAll(async () => {
    ferry = await createHarness({
      strategy: 'all-at-once',
      extraVersions: ['1.2.0', '1.3.0', '1.4.0', '1.5.0', '1.6.0-nohook'],
      appExtra: `    keep_releases: 3
    hooks:
      before_start: ['echo "$FERRY_APP $FERRY_ENV $FERRY_VERSION $PWD" >> ../../hooks.log', 'case "$FERRY_VERSION" in *nohook*) exit 7;; esac']
      after_switch: ['echo "switched to $FERRY_VERSION" >> ../../hooks.log']
      success: ['cat > "../../success-$FERRY_TO_VERSION.log"']
      failure: ['{ echo "$FERRY_STATUS from $FERRY_FROM_VERSION, serving $FERRY_VERSION"; cat; } > "../../failure-$FERRY_TO_VERSION.log"']
`,
    });
    await ferry.start();
  });

  afterAll(async () => {
    await ferry?.cleanup();
  });

  const hooksLog = () => readFileSync(path.join(ferry.home, 'apps/hello/production/hooks.log'), 'utf8');
  const releasesDir = () => path.join(ferry.home, 'apps/hello/production/releases');

  it('all-at-once restarts fail no request: the router holds them while no instance runs', async () => {
    const load = startLoad(`http://127.0.0.1:${ferry.appPort}/`, { connections: 4 });
    for (const version of ['1.1.0', '1.2.0', '1.3.0']) {
      const result = await ferry.cli('deploy', 'hello', version, '--wait');
      expect(result.code, result.stdout + result.stderr).toBe(0);
    }
    const report = await load.stop();
    expect(report.failures, report.samples.join('\n')).toBe(0);
    expect(report.versions['1.3.0']).toBeGreaterThan(0);
  });

  it('runs before_start in the new release dir and after_switch after success, with FERRY_* variables', async () => {
    // after_switch runs once the deployment has succeeded, so it may finish just after `--wait` returns.
    await waitFor('the after_switch hook', () => hooksLog().includes('switched to 1.3.0'));
    expect(hooksLog()).toContain(`hello production 1.2.0 ${path.join(releasesDir(), '1.2.0')}`);
  });

  it('a failing before_start hook fails the deployment with its line and status, and changes nothing', async () => {
    const result = await ferry.cli('deploy', 'hello', '1.6.0-nohook', '--wait');
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(/FERRY_E_HOOK_FAILED: before_start hook failed: case .*: exit status 7/);
    const status = await ferry.json<StatusResponse>('status');
    expect(status.apps[0]!.current).toBe('1.3.0');
    expect(status.apps[0]!.instances.map((i) => i.version)).toEqual(['1.3.0', '1.3.0']);
  });

  it('success and failure hooks get the deployment log on stdin', async () => {
    const appDir = path.join(ferry.home, 'apps/hello/production');
    const success = await waitFor('the success hook', () =>
      readIfExists(path.join(appDir, 'success-1.3.0.log')),
    );
    expect(success).toMatch(/deploy hello 1\.3\.0 in production: succeeded\n$/);
    const failure = await waitFor('the failure hook', () =>
      readIfExists(path.join(appDir, 'failure-1.6.0-nohook.log')),
    );
    expect(failure).toMatch(/^failed from 1\.3\.0, serving 1\.3\.0\n/);
    expect(failure).toContain('before_start hook failed');
  });

  it('keeps keep_releases releases on disk, never removing the current or the last good one', async () => {
    for (const version of ['1.4.0', '1.5.0'])
      expect((await ferry.cli('deploy', 'hello', version, '--wait')).code).toBe(0);
    const kept = readdirSync(releasesDir()).filter((name) => !name.startsWith('.') && name !== 'current');
    expect(kept.length).toBeLessThanOrEqual(3);
    expect(kept).toContain('1.5.0');
    expect(kept).toContain('1.4.0');
    expect(existsSync(path.join(releasesDir(), 'current'))).toBe(true);
    const history = await ferry.json<HistoryResponse>('history', 'hello');
    expect(history.releases.find((r) => r.version === '1.6.0-nohook')?.status).not.toBe('good');
  });
});
