import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { packArchive, writeTree } from '../../src/install/test-support/fixtures.js';
import { requireProgram } from '../../src/lib/test-support/required-program.js';
import { assertBuilt, freePort } from '../support/ferry.js';
import { waitFor } from '../support/wait.js';

const run = promisify(execFile);
const ROOT = path.resolve(import.meta.dirname, '../..');
const BIN = path.join(ROOT, 'bin', 'ferry.js');

describe('ferry install as a Serf event handler', () => {
  let dir: string;
  let agent: ChildProcess | undefined;
  let agentLog = '';
  let rpcAddr = '';

  beforeAll(async () => {
    assertBuilt();
    // A real serf agent, installed by `npm test` (scripts/test-deps.mjs): never skipped.
    requireProgram('serf');
    dir = await mkdtemp(path.join(tmpdir(), 'ferry-serf-'));
    const [bindPort, rpcPort] = [await freePort(), await freePort()];
    rpcAddr = `127.0.0.1:${rpcPort}`;
    const handler = `${process.execPath} ${BIN} install >> ${path.join(dir, 'handler.log')} 2>&1`;
    const env: NodeJS.ProcessEnv = { ...process.env, FERRY_HOME: path.join(dir, 'home') };
    delete env.CONSUL_INDEX;
    agent = spawn(
      'serf',
      [
        'agent',
        `-node=ferry-test-${process.pid}-${Date.now()}`,
        `-bind=127.0.0.1:${bindPort}`,
        `-rpc-addr=${rpcAddr}`,
        `-event-handler=user:deploy=${handler}`,
        '-log-level=debug',
      ],
      { env, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    agent.stdout?.on('data', (chunk: Buffer) => (agentLog += chunk.toString()));
    agent.stderr?.on('data', (chunk: Buffer) => (agentLog += chunk.toString()));
    await waitFor('the serf agent to answer RPC', () =>
      run('serf', ['members', `-rpc-addr=${rpcAddr}`]).then(({ stdout }) => stdout.includes('alive')),
    );
  });

  afterAll(async () => {
    if (agent && agent.exitCode === null) {
      const exited = new Promise((resolve) => agent?.once('exit', resolve));
      agent.kill('SIGTERM');
      const timer = setTimeout(() => agent?.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    }
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('deploys the manifest named by a `serf event deploy <url>`', async () => {
    await writeTree(path.join(dir, 'tree'), { 'foo/baz': 'baz\n', bar: 'bar\n' });
    const { url, checksum } = await packArchive(path.join(dir, 'tree'), path.join(dir, 'app.tgz'));
    const dest = path.join(dir, 'dest');
    await writeFile(
      path.join(dir, 'manifest.yml'),
      `src: ${url}\nchecksum: ${checksum}\ndest: ${dest}\ncommands:\n  success:\n    - cat > ${dir}/success.log\n`,
    );
    await run('serf', [
      'event',
      `-rpc-addr=${rpcAddr}`,
      'deploy',
      pathToFileURL(path.join(dir, 'manifest.yml')).href,
    ]);
    const log = await waitFor(
      'the handler to deploy',
      async () =>
        existsSync(path.join(dir, 'success.log')) ? readFile(path.join(dir, 'success.log'), 'utf8') : null,
      60_000,
    ).catch(async (error: unknown) => {
      const handlerLog = await readFile(path.join(dir, 'handler.log'), 'utf8').catch(
        () => '(no handler log)',
      );
      throw new Error(`${String(error)}\nhandler:\n${handlerLog}\nagent:\n${agentLog}`);
    });
    expect(log).toContain('Deploy manifest succeeded.');
    expect(await readFile(path.join(dest, 'foo/baz'), 'utf8')).toBe('baz\n');
    expect(await readFile(path.join(dest, 'bar'), 'utf8')).toBe('bar\n');
  });
});
