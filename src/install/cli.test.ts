import { access, mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
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

  it('reads a plain line (a Serf payload) from stdin, also when CONSUL_INDEX is set but empty', async () => {
    const { good, bad, dest } = await manifests();
    expect((await runFerryInstall([], { stdin: `${good}\n`, env: { CONSUL_INDEX: undefined } })).code).toBe(
      0,
    );
    expect(await readFile(join(dest, 'bar'), 'utf8')).toBe('bar\n');
    await rm(dest, { recursive: true });
    // stretcher tests os.Getenv("CONSUL_INDEX") != "": empty is not consul watch, for the event and the exit code.
    const empty = await runFerryInstall([], { stdin: `${good}\n`, env: { CONSUL_INDEX: '' } });
    expect(empty.stderr).not.toContain('Deploy manifest failed');
    expect(empty.code).toBe(0);
    expect(await readFile(join(dest, 'bar'), 'utf8')).toBe('bar\n');
    const failed = await runFerryInstall([], { stdin: `${bad}\n`, env: { CONSUL_INDEX: '' } });
    expect(failed.code).toBe(1);
    expect(failed.stderr).toContain('Deploy manifest failed: checksum mismatch');
  });

  it('refuses an unknown flag or a bad flag value with exit 2, also under consul watch', async () => {
    const { good, dest } = await manifests();
    for (const env of [{ CONSUL_INDEX: undefined }, { CONSUL_INDEX: '42' }]) {
      const unknown = await runFerryInstall(['-bogus', good], { env });
      expect(unknown).toMatchObject({ code: 2, stderr: expect.stringContaining("unknown option '-bogus'") });
      const bandwidth = await runFerryInstall(['-max-bandwidth', 'fast', good], { env });
      expect(bandwidth.code).toBe(2);
      expect(bandwidth.stderr).toContain(
        '--max-bandwidth: expected bytes per second like 10M (10,000,000), 10Mi (10,485,760) or 1048576, got "fast"',
      );
      const retry = await runFerryInstall(['--retry=-1', good], { env });
      expect(retry.code).toBe(2);
      expect(retry.stderr).toContain('--retry: expected a whole number, 0 or more, got "-1"');
    }
    await expect(access(dest)).rejects.toThrow();
  });

  it('accepts -rsync-verbose in both spellings, with the values stretcher accepts', async () => {
    const { good, dest } = await manifests();
    for (const flags of [
      ['-rsync-verbose', '-vv'],
      ['--rsync-verbose', '-v'],
      ['-rsync-verbose='],
      ['--rsync-verbose=-vvv'],
    ]) {
      const result = await runFerryInstall([...flags, good]);
      expect(result.stderr).not.toContain('Deploy manifest failed');
      expect(result.code).toBe(0);
    }
    expect(await readFile(join(dest, 'bar'), 'utf8')).toBe('bar\n');
    const bad = await runFerryInstall(['-rsync-verbose', '-q', good]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--rsync-verbose: expected "", -v, -vv or -vvv, got "-q"');
  });

  it('lists the files the sync changed as rsync -v does (stretcher\'s default), none with ""', async () => {
    const { good, dest } = await manifests();
    await mkdir(dest);
    await writeFile(join(dest, 'stale'), 'gone soon');
    const listed = await runFerryInstall([good]);
    expect(listed.code).toBe(0);
    const lines = listed.stderr.split('\n').map((line) => line.replace(/^\S+ /, ''));
    expect(lines).toEqual(expect.arrayContaining(['deleting stale', 'bar', 'foo/', 'foo/baz']));
    expect(lines.indexOf('deleting stale')).toBeLessThan(lines.indexOf('bar'));
    const again = await runFerryInstall(['-rsync-verbose', '-vv', good]);
    expect(again.stderr).toContain(' foo/baz is uptodate\n');
    const quiet = await runFerryInstall(['-rsync-verbose=', good]);
    expect(quiet.code).toBe(0);
    expect(quiet.stderr).not.toMatch(/ (bar|foo\/baz)( is uptodate)?\n/);
    expect(quiet.stderr).toContain(': 0 copied, 0 deleted, 2 unchanged');
  });

  it('reads -max-bandwidth as go-humanize does: 10M is 10,000,000 B/s, 10Mi 10,485,760', async () => {
    const { good } = await manifests();
    for (const [flags, rate] of [
      [['-max-bandwidth', '10M'], 10_000_000],
      [['--max-bandwidth=10MB'], 10_000_000],
      [['-max-bandwidth=10Mi'], 10_485_760],
      [['--max-band-width', '10 MiB'], 10_485_760],
      [['-max-bandwidth', '1.5k'], 1_500],
    ] as const) {
      const result = await runFerryInstall([...flags, good]);
      expect(result.code).toBe(0);
      expect(result.stderr).toContain(` max bandwidth ${rate} bytes/s\n`);
    }
  });

  it("prints the version for stretcher's -v and -version", async () => {
    for (const flag of ['-v', '-version', '--version']) {
      const result = await runFerryInstall([flag]);
      expect(result).toMatchObject({ code: 0, stdout: expect.stringMatching(/^\d+\.\d+\.\d+/) });
    }
  });

  it("runs pre after verification and before unpacking, pre and post in the caller's directory", async () => {
    const { good, dest } = await manifests();
    const caller = join(dir, 'caller');
    await mkdir(caller);
    // What pre sees of the release: nothing unpacked anywhere but the source tree the test packed.
    const commands = [
      'commands:',
      `  pre: ["pwd > ${dir}/pre-cwd", "find ${dir} -path ${dir}/tree -prune -o -name baz -print > ${dir}/pre-saw"]`,
      `  post: ["pwd > ${dir}/post-cwd", "cat ${dest}/bar > ${dir}/post-saw"]`,
    ].join('\n');
    const manifest = join(dir, 'hooks.yml');
    await writeFile(manifest, `${await readFile(new URL(good), 'utf8')}${commands}\n`);
    const result = await runFerryInstall([pathToFileURL(manifest).href], { cwd: caller });
    expect(result.stderr).not.toContain('Deploy manifest failed');
    expect(await readFile(join(dir, 'pre-cwd'), 'utf8')).toBe(`${caller}\n`);
    expect(await readFile(join(dir, 'pre-saw'), 'utf8')).toBe('');
    expect(await readFile(join(dir, 'post-cwd'), 'utf8')).toBe(`${caller}\n`);
    expect(await readFile(join(dir, 'post-saw'), 'utf8')).toBe('bar\n');
  });

  it("a failing pre or post command fails in stretcher's words; pre does not run on a bad checksum", async () => {
    const { good, bad, dest } = await manifests();
    const withCommands = async (name: string, base: string, commands: string): Promise<string> => {
      await writeFile(join(dir, name), `${await readFile(new URL(base), 'utf8')}commands:\n${commands}\n`);
      return pathToFileURL(join(dir, name)).href;
    };
    const pre = await runFerryInstall([await withCommands('pre.yml', good, '  pre: ["exit 3"]')]);
    expect(pre.code).toBe(1);
    expect(pre.stderr).toMatch(/^Deploy manifest failed: failed: exit 3 exit status 3$/m);
    await expect(access(dest)).rejects.toThrow();
    const post = await runFerryInstall([await withCommands('post.yml', good, '  post: ["true", "false"]')]);
    expect(post.code).toBe(1);
    expect(post.stderr).toMatch(/^Deploy manifest failed: failed: false exit status 1$/m);
    expect(await readFile(join(dest, 'bar'), 'utf8')).toBe('bar\n');
    const checksum = await runFerryInstall([
      await withCommands('bad.yml', bad, `  pre: ["touch ${dir}/pre-ran"]`),
    ]);
    expect(checksum.code).toBe(1);
    await expect(access(join(dir, 'pre-ran'))).rejects.toThrow();
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
