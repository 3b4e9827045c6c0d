import { access, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { makeWorkspace, packArchive, runFerryInstall, writeTree } from './test-support/fixtures.js';

let dir: string;
let remove: () => Promise<void>;
beforeEach(async () => {
  ({ dir, remove } = await makeWorkspace());
  // The download cache lives under the ferry home: keep it in the workspace.
  vi.stubEnv('FERRY_HOME', join(dir, 'home'));
});
afterEach(async () => {
  vi.unstubAllEnvs();
  await remove();
});

const consulEvents = (...urls: string[]) =>
  JSON.stringify(
    urls.map((url, i) => ({ ID: String(i), Name: 'deploy', Payload: Buffer.from(url).toString('base64') })),
  );

async function manifests(): Promise<{ good: string; bad: string; dest: string }> {
  await writeTree(join(dir, 'tree'), { 'foo/baz': 'baz\n', bar: 'bar\n' });
  const { url, checksum } = await packArchive(join(dir, 'tree'), join(dir, 'app.tgz'));
  const dest = join(dir, 'dest');
  await writeFile(join(dir, 'good.yml'), `src: ${url}\nchecksum: ${checksum}\ndest: ${dest}\n`);
  await writeFile(join(dir, 'bad.yml'), `src: ${url}\nchecksum: ${'0'.repeat(64)}\ndest: ${dest}\n`);
  return {
    good: pathToFileURL(join(dir, 'good.yml')).href,
    bad: pathToFileURL(join(dir, 'bad.yml')).href,
    dest,
  };
}

describe('ferry install (CLI)', () => {
  it('deploys the last of several Consul events, with stretcher single-dash flags', async () => {
    const { good, bad, dest } = await manifests();
    const result = await runFerryInstall(
      ['-retry', '1', '-retry-wait=100ms', '-timeout', '30s', '-max-bandwidth', '10M'],
      {
        stdin: consulEvents(bad, good),
        env: { CONSUL_INDEX: '42' },
      },
    );
    expect(result.stderr).not.toContain('Deploy manifest failed');
    expect(result.code).toBe(0);
    expect(await readFile(join(dest, 'foo/baz'), 'utf8')).toBe('baz\n');
  });

  it('exits 1 on failure, but 0 when CONSUL_INDEX is set', async () => {
    const { bad } = await manifests();
    const plain = await runFerryInstall([bad], { env: { CONSUL_INDEX: undefined } });
    expect(plain.code).toBe(1);
    expect(plain.stderr).toMatch(
      /^Deploy manifest failed: checksum mismatch for .*: expected sha256:0{64}, got sha256:/m,
    );
    const consul = await runFerryInstall([], { stdin: consulEvents(bad), env: { CONSUL_INDEX: '42' } });
    expect(consul.code).toBe(0);
    expect(consul.stderr).toContain('Deploy manifest failed: checksum mismatch');
    const none = await runFerryInstall([], { stdin: '[]', env: { CONSUL_INDEX: '42' } });
    expect(none).toMatchObject({ code: 0, stderr: 'Deploy manifest failed: No Consul events found\n' });
  });

  it('reads a plain line (a Serf payload) from stdin and rejects a bad flag value', async () => {
    const { good, dest } = await manifests();
    expect((await runFerryInstall([], { stdin: `${good}\n`, env: { CONSUL_INDEX: undefined } })).code).toBe(
      0,
    );
    expect(await readFile(join(dest, 'bar'), 'utf8')).toBe('bar\n');
    const bad = await runFerryInstall(['--max-bandwidth', 'fast', good], {
      env: { CONSUL_INDEX: undefined },
    });
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain(
      '--max-bandwidth: expected bytes per second like 10M, 512K or 1048576, got "fast"',
    );
  });

  it('cancels cleanly on SIGTERM: exit 1, the reason on stderr, no temp dir and no lock left', async () => {
    const { good, dest } = await manifests();
    const manifest = join(dir, 'slow.yml');
    const text = await readFile(new URL(good), 'utf8');
    await writeFile(
      manifest,
      `${text}sync_strategy: mv\ncommands:\n  pre: ["touch ${dir}/pre-running; sleep 30"]\n`,
    );
    const result = await runFerryInstall([pathToFileURL(manifest).href], {
      env: { CONSUL_INDEX: undefined },
      onStart: (child) => {
        const poll = setInterval(() => {
          access(join(dir, 'pre-running')).then(
            () => {
              clearInterval(poll);
              child.kill('SIGTERM');
            },
            () => undefined,
          );
        }, 20);
        child.once('close', () => clearInterval(poll));
      },
    });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('Deploy manifest failed: interrupted by SIGTERM');
    expect(
      (await readdir(dir)).filter((name) => name.startsWith('.ferry-install-') || name.endsWith('.lock')),
    ).toEqual([]);
    await expect(access(dest)).rejects.toThrow();
  });

  it('fetches a release once per host: a second install is served from the cache', async () => {
    const { good, dest } = await manifests();
    expect((await runFerryInstall([good])).code).toBe(0);
    await rm(join(dir, 'app.tgz'));
    await rm(dest, { recursive: true });
    const again = await runFerryInstall([good]);
    expect(again.stderr).not.toContain('Deploy manifest failed');
    expect(await readFile(join(dest, 'bar'), 'utf8')).toBe('bar\n');
    expect(
      (await readdir(join(dir, 'home', 'cache', 'artifacts'))).filter((n) => n.startsWith('sha256-')),
    ).toHaveLength(1);
    const uncached = await runFerryInstall([good, '--no-cache']);
    expect(uncached.code).toBe(1);
    expect(uncached.stderr).toMatch(/^Deploy manifest failed: .*app\.tgz.*does not exist/m);
  });
});
