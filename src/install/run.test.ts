import { createHash, randomBytes } from 'node:crypto';
import { lstat, mkdir, readFile, readdir, stat, symlink, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { InstallLog } from './log.js';
import { runInstall, type InstallOptions } from './run.js';
import { makeWorkspace, packArchive, writeTree } from './test-support/fixtures.js';

let dir: string;
let remove: () => Promise<void>;
beforeEach(async () => ({ dir, remove } = await makeWorkspace()));
afterEach(async () => remove());

const quietLog = (lines: string[] = []) => new InstallLog((line) => lines.push(line));

function options(manifestUrl: string, extra: Partial<InstallOptions> = {}): InstallOptions {
  return {
    manifestUrl,
    timeoutMs: 0,
    retries: 0,
    retryWaitMs: 10,
    randomDelayMs: 0,
    maxBytesPerSecond: 0,
    commandTimeoutMs: 30_000,
    lockWaitMs: 30_000,
    log: quietLog(),
    ...extra,
  };
}

/** The stretcher test archive: foo/baz and bar, plus an exclude file. */
async function stretcherArchive(
  entries?: string[],
): Promise<{ url: string; checksum: string; bytes: Buffer }> {
  const tree = join(dir, 'tree');
  await writeTree(tree, { 'foo/baz': 'baz\n', bar: 'bar\n', 'exclude.txt': '*.pid\nbaz\n' });
  return packArchive(tree, join(dir, 'archive.tar.gz'), entries);
}

async function writeManifest(yaml: string, name = 'manifest.yml'): Promise<string> {
  await writeFile(join(dir, name), yaml);
  return pathToFileURL(join(dir, name)).href;
}

async function exists(path: string): Promise<boolean> {
  return lstat(path).then(
    () => true,
    () => false,
  );
}

function errorOf(result: Awaited<ReturnType<typeof runInstall>>): string {
  if (result.ok) throw new Error('expected the install to fail');
  return result.error instanceof Error ? result.error.message : String(result.error);
}

describe('runInstall (stretcher scenarios)', () => {
  it('rsync: creates dest/foo/baz and dest/bar and deletes a stale test.pid', async () => {
    const { url, checksum } = await stretcherArchive();
    const dest = join(dir, 'dest');
    await writeTree(dest, { 'test.pid': '123' });
    const result = await runInstall(
      options(await writeManifest(`src: ${url}\nchecksum: ${checksum}\ndest: ${dest}\n`)),
    );
    expect(result.ok).toBe(true);
    expect(await readFile(join(dest, 'foo/baz'), 'utf8')).toBe('baz\n');
    expect(await readFile(join(dest, 'bar'), 'utf8')).toBe('bar\n');
    expect(await exists(join(dest, 'test.pid'))).toBe(false);
    expect(await exists(join(dest, '.ferry-release.json'))).toBe(false);
    expect((await stat(dest)).mode & 0o777).toBe(0o755);
    expect(await exists(`${dest}.ferry-install.lock`)).toBe(false);
  });

  it('rsync: a second deploy updates changed files, keeps symlinks, removes what is gone', async () => {
    const tree = join(dir, 'tree');
    const dest = join(dir, 'dest');
    await writeTree(tree, {
      'a.txt': 'one',
      'gone.txt': 'x',
      'bin/run': { content: '#!/bin/sh\n', mode: 0o750 },
    });
    await symlink('a.txt', join(tree, 'link'));
    let archive = await packArchive(tree, join(dir, 'v1.tgz'));
    expect(
      (
        await runInstall(
          options(await writeManifest(`src: ${archive.url}\nchecksum: ${archive.checksum}\ndest: ${dest}\n`)),
        )
      ).ok,
    ).toBe(true);
    expect((await stat(join(dest, 'bin/run'))).mode & 0o777).toBe(0o750);
    await writeTree(tree, { 'a.txt': 'two!' });
    await import('node:fs/promises').then((fs) => fs.rm(join(tree, 'gone.txt')));
    archive = await packArchive(tree, join(dir, 'v2.tgz'));
    expect(
      (
        await runInstall(
          options(await writeManifest(`src: ${archive.url}\nchecksum: ${archive.checksum}\ndest: ${dest}\n`)),
        )
      ).ok,
    ).toBe(true);
    expect(await readFile(join(dest, 'link'), 'utf8')).toBe('two!');
    expect((await lstat(join(dest, 'link'))).isSymbolicLink()).toBe(true);
    expect((await readdir(dest)).sort()).toEqual(['a.txt', 'bin', 'link']);
  });

  it('mv: moves the tree into dest with dest_mode 0751, and refuses a non-empty dest', async () => {
    const { url, checksum } = await stretcherArchive();
    const dest = join(dir, 'dest');
    const manifest = await writeManifest(
      `src: ${url}\nchecksum: ${checksum}\ndest: ${dest}\ndest_mode: 0751\nsync_strategy: mv\n`,
    );
    expect((await runInstall(options(manifest))).ok).toBe(true);
    expect(await readFile(join(dest, 'foo/baz'), 'utf8')).toBe('baz\n');
    expect((await stat(dest)).mode & 0o777).toBe(0o751);
    expect(errorOf(await runInstall(options(manifest)))).toBe(
      `mv strategy: dest ${dest} exists and is not empty`,
    );
    expect((await readdir(dir)).filter((name) => name.startsWith('.ferry-install-'))).toEqual([]);
  });

  it('rejects an invalid strategy', async () => {
    const result = await runInstall(
      options(await writeManifest('src: file:///x.tgz\nchecksum: ab\ndest: /tmp/x\nsync_strategy: cp\n')),
    );
    expect(errorOf(result)).toBe('invalid strategy name: cp');
  });

  it.each([
    ['excludes', 'excludes: ["*.pid", "baz"]'],
    ['exclude_from', 'exclude_from: exclude.txt'],
  ])('%s: keeps test.pid in dest and does not copy foo/baz', async (_name, line) => {
    const { url, checksum } = await stretcherArchive();
    const dest = join(dir, 'dest');
    await writeTree(dest, { 'test.pid': '123' });
    const result = await runInstall(
      options(await writeManifest(`src: ${url}\nchecksum: ${checksum}\ndest: ${dest}\n${line}\n`)),
    );
    expect(result.ok).toBe(true);
    expect(await readFile(join(dest, 'test.pid'), 'utf8')).toBe('123');
    expect(await exists(join(dest, 'foo/baz'))).toBe(false);
    expect(await readFile(join(dest, 'bar'), 'utf8')).toBe('bar\n');
  });

  it('applies dest_mode 0711 for an archive without a ./ entry', async () => {
    const { url, checksum } = await stretcherArchive(['foo', 'bar']);
    const dest = join(dir, 'dest');
    const result = await runInstall(
      options(await writeManifest(`src: ${url}\nchecksum: ${checksum}\ndest: ${dest}\ndest_mode: 0711\n`)),
    );
    expect(result.ok).toBe(true);
    expect((await stat(dest)).mode & 0o777).toBe(0o711);
    expect(await readFile(join(dest, 'foo/baz'), 'utf8')).toBe('baz\n');
  });

  it('retries a missing source file, then fails (stretcher)', async () => {
    const missing = pathToFileURL(join(dir, 'missing.tgz')).href;
    const result = await runInstall(
      options(
        await writeManifest(`src: ${missing}\nchecksum: ${'a'.repeat(64)}\ndest: ${join(dir, 'dest')}\n`),
        { retries: 2 },
      ),
    );
    expect(errorOf(result)).toMatch(/missing\.tgz does not exist \(gave up after 3 attempts\)$/);
  });

  it('fails a checksum mismatch with expected and got', async () => {
    const { url, checksum } = await stretcherArchive();
    const wrong = 'b'.repeat(64);
    const result = await runInstall(
      options(await writeManifest(`src: ${url}\nchecksum: ${wrong}\ndest: ${join(dir, 'dest')}\n`)),
    );
    expect(errorOf(result)).toContain(`expected sha256:${wrong}, got sha256:${checksum}`);
    expect(await exists(join(dir, 'dest'))).toBe(false);
  });

  it.each(['sha1', 'md5'])(
    'installs a %s checksum over http, as stretcher manifests carry them, and says it is weak',
    async (algorithm) => {
      const { bytes } = await stretcherArchive();
      const server = createServer((_req, res) => {
        res.writeHead(200, { 'content-length': bytes.length }).end(bytes);
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      try {
        const src = `http://127.0.0.1:${(server.address() as AddressInfo).port}/app.tgz`;
        const checksum = createHash(algorithm).update(bytes).digest('hex');
        const lines: string[] = [];
        const result = await runInstall(
          options(await writeManifest(`src: ${src}\nchecksum: ${checksum}\ndest: ${join(dir, 'dest')}\n`), {
            log: quietLog(lines),
          }),
        );
        expect(result.ok).toBe(true);
        expect(await readFile(join(dir, 'dest/foo/baz'), 'utf8')).toBe('baz\n');
        expect(lines.join('\n')).toContain(`verified ${algorithm}:${checksum}`);
        expect(lines.join('\n')).toContain(`${algorithm} is a weak checksum`);
      } finally {
        server.close();
      }
    },
  );

  it('fails at once on an HTTP 404 source, with the status', async () => {
    let requests = 0;
    const server = createServer((_req, res) => {
      requests++;
      res.writeHead(404).end('not here');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const src = `http://127.0.0.1:${(server.address() as AddressInfo).port}/app.tgz`;
      const result = await runInstall(
        options(
          await writeManifest(`src: ${src}\nchecksum: ${'a'.repeat(64)}\ndest: ${join(dir, 'dest')}\n`),
          { retries: 3 },
        ),
      );
      expect(errorOf(result)).toContain('404');
      expect(requests).toBe(1);
    } finally {
      server.close();
    }
  });

  it('times out a download slowed by the bandwidth limit, leaving dest untouched', async () => {
    await writeTree(join(dir, 'big'), { data: randomBytes(256 * 1024).toString('base64') });
    const { bytes, checksum } = await packArchive(join(dir, 'big'), join(dir, 'big.tgz'));
    const server = createServer((_req, res) => {
      res.writeHead(200, { 'content-length': bytes.length }).end(bytes);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const src = `http://127.0.0.1:${(server.address() as AddressInfo).port}/big.tgz`;
      const dest = join(dir, 'dest');
      // At that pace the download takes 10 s: only the timeout can end it, with this error.
      const result = await runInstall(
        options(await writeManifest(`src: ${src}\nchecksum: ${checksum}\ndest: ${dest}\n`), {
          timeoutMs: 1000,
          maxBytesPerSecond: Math.floor(bytes.length / 10),
        }),
      );
      expect(errorOf(result)).toMatch(
        /big\.tgz: expected to finish within 1000ms, got no complete artifact in that time$/,
      );
      expect(await exists(dest)).toBe(false);
    } finally {
      server.close();
    }
  });

  it('commands-only mode: runs pre and post without src', async () => {
    const result = await runInstall(
      options(
        await writeManifest(`commands:\n  pre:\n    - touch ${dir}/pre\n  post:\n    - touch ${dir}/post\n`),
      ),
    );
    expect(result.ok).toBe(true);
    expect(await exists(join(dir, 'pre'))).toBe(true);
    expect(await exists(join(dir, 'post'))).toBe(true);
  });

  it('logs the manifest and source URLs without credentials; commands keep the caller environment', async () => {
    const { checksum } = await stretcherArchive();
    const bytes = await readFile(join(dir, 'archive.tar.gz'));
    const dest = join(dir, 'dest');
    const server = createServer((req, res) => {
      if (req.url?.startsWith('/manifest.yml')) {
        const src = `http://deploy:pw-secret-1@127.0.0.1:${port}/app.tgz?X-Amz-Signature=sig-secret-2`;
        const commands = `commands:\n  pre:\n    - echo "$FERRY_TEST_CALLER" > ${dir}/caller\n`;
        return void res.end(`src: ${src}\nchecksum: ${checksum}\ndest: ${dest}\n${commands}`);
      }
      res.writeHead(200, { 'content-length': bytes.length }).end(bytes);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as AddressInfo).port;
    const lines: string[] = [];
    process.env.FERRY_TEST_CALLER = 'from-the-caller';
    try {
      const result = await runInstall(
        options(`http://127.0.0.1:${port}/manifest.yml?token=tok-secret-3`, { log: quietLog(lines) }),
      );
      expect(result.ok).toBe(true);
    } finally {
      delete process.env.FERRY_TEST_CALLER;
      server.close();
    }
    const log = lines.join('\n');
    expect(log).toContain(`loading manifest http://127.0.0.1:${port}/manifest.yml?token=***`);
    expect(log).toContain(`fetching http://127.0.0.1:${port}/app.tgz?X-Amz-Signature=***`);
    expect(log).not.toMatch(/secret-\d/);
    expect(await readFile(join(dir, 'caller'), 'utf8')).toBe('from-the-caller\n');
  });

  it('a failing pre command stops the list, post does not run, failure commands get the log', async () => {
    const { url, checksum } = await stretcherArchive();
    const manifest = await writeManifest(
      [
        `src: ${url}`,
        `checksum: ${checksum}`,
        `dest: ${join(dir, 'dest')}`,
        'commands:',
        `  pre: ["touch ${dir}/pre1", "exit 3", "touch ${dir}/pre2"]`,
        `  post: ["touch ${dir}/post"]`,
        `  failure: ["cat > ${dir}/failure.log"]`,
        `  success: ["touch ${dir}/success"]`,
      ].join('\n'),
    );
    const result = await runInstall(options(manifest));
    expect(errorOf(result)).toBe('failed: exit 3 exit status 3');
    expect(await exists(join(dir, 'pre1'))).toBe(true);
    expect(await exists(join(dir, 'pre2'))).toBe(false);
    expect(await exists(join(dir, 'post'))).toBe(false);
    expect(await exists(join(dir, 'success'))).toBe(false);
    expect(await exists(join(dir, 'dest'))).toBe(false);
    expect(await readFile(join(dir, 'failure.log'), 'utf8')).toContain(
      'Deploy manifest failed: failed: exit 3 exit status 3',
    );
  });

  it('pipes the same log to several success commands; one that ignores stdin is fine', async () => {
    const manifest = await writeManifest(
      `commands:\n  pre: ["echo hello from pre"]\n  success:\n    - cat > ${dir}/a.log\n    - "true"\n    - cat > ${dir}/b.log\n`,
    );
    expect((await runInstall(options(manifest))).ok).toBe(true);
    const a = await readFile(join(dir, 'a.log'), 'utf8');
    expect(a).toContain('hello from pre');
    expect(a).toContain('Deploy manifest succeeded.');
    expect(await readFile(join(dir, 'b.log'), 'utf8')).toBe(a);
  });

  it('stops a command at its timeout', async () => {
    const result = await runInstall(
      options(await writeManifest('commands:\n  pre: ["sleep 30"]\n'), { commandTimeoutMs: 200 }),
    );
    expect(errorOf(result)).toBe('pre hook failed: sleep 30: timed out after 200ms');
  });

  it('--timeout bounds the download, not the pre commands that run before unpacking', async () => {
    const { url, checksum } = await stretcherArchive();
    const dest = join(dir, 'dest');
    const manifest = await writeManifest(
      `src: ${url}\nchecksum: ${checksum}\ndest: ${dest}\ncommands:\n  pre: ["sleep 2"]\n`,
    );
    const result = await runInstall(options(manifest, { timeoutMs: 1500 }));
    expect(result.ok ? null : errorOf(result)).toBeNull();
    expect(await readFile(join(dest, 'bar'), 'utf8')).toBe('bar\n');
  });

  it('two concurrent installs into one dest never interleave: the second waits for the lock', async () => {
    const { url, checksum } = await stretcherArchive();
    const dest = join(dir, 'dest');
    const journal = join(dir, 'journal');
    await mkdir(join(dir, 'gate'));
    const manifestFor = (id: string) =>
      writeManifest(
        [
          `src: ${url}`,
          `checksum: ${checksum}`,
          `dest: ${dest}`,
          'commands:',
          '  pre:',
          `    - echo start-${id} >> ${journal}; touch ${dir}/gate/${id}-started`,
          // The first install holds the lock until the test opens the gate (bounded: 30 s).
          `    - for i in $(seq 300); do [ -e ${dir}/gate/open ] && break; sleep 0.1; done`,
          `    - echo end-${id} >> ${journal}`,
        ].join('\n'),
        `${id}.yml`,
      );
    const first = runInstall(options(await manifestFor('a')));
    await waitFor(() => exists(join(dir, 'gate/a-started')));
    let secondWaiting!: () => void;
    const waiting = new Promise<void>((resolve) => (secondWaiting = resolve));
    const second = runInstall(
      options(await manifestFor('b'), {
        log: new InstallLog((line) => {
          if (line.includes('waiting for the install lock')) secondWaiting();
        }),
      }),
    );
    await waiting;
    expect(await exists(join(dir, 'gate/b-started'))).toBe(false);
    await writeFile(join(dir, 'gate/open'), '');
    const results = await Promise.all([first, second]);
    expect(results.map((r) => r.ok)).toEqual([true, true]);
    expect((await readFile(journal, 'utf8')).trim().split('\n')).toEqual([
      'start-a',
      'end-a',
      'start-b',
      'end-b',
    ]);
  });

  it('fails clearly when the lock is held past --lock-wait, and takes over a stale lock', async () => {
    const dest = join(dir, 'dest');
    const manifest = await writeManifest(`commands:\n  pre: ["true"]\n`);
    const { url, checksum } = await stretcherArchive();
    const withSrc = await writeManifest(`src: ${url}\nchecksum: ${checksum}\ndest: ${dest}\n`, 'src.yml');
    expect((await runInstall(options(manifest))).ok).toBe(true);
    const { hostname } = await import('node:os');
    await writeFile(
      `${dest}.ferry-install.lock`,
      JSON.stringify({ pid: process.pid, host: hostname(), startedAt: 'x' }),
    );
    expect(errorOf(await runInstall(options(withSrc, { lockWaitMs: 100 })))).toMatch(
      new RegExp(`^dest ${dest} is locked by another install \\(pid ${process.pid} on .+\\); waited 100 ms$`),
    );
    await writeFile(
      `${dest}.ferry-install.lock`,
      JSON.stringify({ pid: 2 ** 22 + 1, host: hostname(), startedAt: 'x' }),
    );
    expect((await runInstall(options(withSrc, { lockWaitMs: 100 }))).ok).toBe(true);
    expect(await exists(`${dest}.ferry-install.lock`)).toBe(false);
  });

  it('cancels cleanly on abort: no temp dir, no lock left', async () => {
    const { url, checksum } = await stretcherArchive();
    const dest = join(dir, 'dest');
    const controller = new AbortController();
    const manifest = await writeManifest(
      `src: ${url}\nchecksum: ${checksum}\ndest: ${dest}\nsync_strategy: mv\ncommands:\n  pre: ["touch ${dir}/pre-running; sleep 30"]\n  failure: ["touch ${dir}/failure"]\n`,
    );
    const running = runInstall(options(manifest, { signal: controller.signal }));
    await waitFor(() => exists(join(dir, 'pre-running')));
    controller.abort(new Error('interrupted by SIGTERM'));
    const result = await running;
    expect(result.ok).toBe(false);
    expect(await exists(`${dest}.ferry-install.lock`)).toBe(false);
    expect(await exists(dest)).toBe(false);
    expect(await exists(join(dir, 'failure'))).toBe(false);
    expect((await readdir(dir)).filter((name) => name.startsWith('.ferry-install-'))).toEqual([]);
  });
});

async function waitFor(check: () => Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
