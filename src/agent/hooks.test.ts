import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isFerryError } from '../errors/ferry-error.js';
import { hookVariables, runHook, type HookRun } from './hooks.js';

let dir: string;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ferry-hooks-'));
});

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const hook = (lines: string[], extra: Partial<HookRun> = {}): HookRun => ({
  hook: 'before_start',
  lines,
  cwd: dir,
  env: { PATH: process.env.PATH },
  timeoutMs: 5000,
  ...extra,
});

/** Waits until a line has created `file`; bounded. */
async function waitForFile(file: string): Promise<void> {
  for (let i = 0; i < 1_500 && !existsSync(file); i++) await sleep(20);
  if (!existsSync(file)) throw new Error(`timed out waiting for ${file}`);
}

async function failure(run: HookRun): Promise<string> {
  try {
    await runHook(run);
  } catch (error) {
    if (isFerryError(error, 'FERRY_E_HOOK_FAILED')) return error.message;
    throw error;
  }
  throw new Error('the hook did not fail');
}

describe('runHook', () => {
  it('runs each line through sh -c in cwd with the FERRY_* variables', async () => {
    const vars = hookVariables({ app: 'hello', env: 'staging', version: '1.2.0', releaseDir: dir });
    await runHook(
      hook(
        [
          'echo "$FERRY_APP $FERRY_ENV $FERRY_ENVIRONMENT $FERRY_VERSION $FERRY_RELEASE_DIR" > out',
          'pwd >> out',
        ],
        {
          vars,
        },
      ),
    );
    expect(await readFile(join(dir, 'out'), 'utf8')).toBe(`hello staging staging 1.2.0 ${dir}\n${dir}\n`);
  });

  it('stops at the first failing line, naming the hook, the line, its status and the end of its output', async () => {
    const message = await failure(
      hook(['touch one', 'echo migrating; echo "no database" >&2; exit 4', 'touch two']),
    );
    expect(message).toBe(
      'before_start hook failed: echo migrating; echo "no database" >&2; exit 4: exit status 4\nmigrating\nno database',
    );
    expect(await readFile(join(dir, 'one'), 'utf8')).toBe('');
    await expect(readFile(join(dir, 'two'))).rejects.toThrow(/ENOENT/);
  });

  it('gives every line the same stdin; a line that ignores it is fine', async () => {
    const stdin = 'line one\nline two\n'.repeat(10_000);
    await runHook(hook(['cat > a', 'true', 'cat > b'], { hook: 'success', stdin }));
    expect(await readFile(join(dir, 'a'), 'utf8')).toBe(stdin);
    expect(await readFile(join(dir, 'b'), 'utf8')).toBe(stdin);
  });

  it('stops a line at its timeout, with what it started', async () => {
    const started = Date.now();
    const message = await failure(hook(['sh -c "sleep 30" & sleep 30'], { timeoutMs: 200 }));
    expect(message).toBe('before_start hook failed: sh -c "sleep 30" & sleep 30: timed out after 200ms');
    // The hook ends once every process holding its output is gone: left alive, the background
    // sleep would have held it for 30 s. A generous bound against that, not a measure of speed.
    expect(Date.now() - started).toBeLessThan(20_000);
  });

  it('forwards output lines instead of quoting them when asked', async () => {
    const lines: string[] = [];
    const message = await failure(
      hook(['echo a; echo b; exit 1'], { hook: 'pre', onOutput: (l) => lines.push(l) }),
    );
    expect(message).toBe('pre hook failed: echo a; echo b; exit 1: exit status 1');
    expect(lines).toEqual(['a', 'b']);
  });

  it('stops when cancelled', async () => {
    const controller = new AbortController();
    const running = runHook(hook(['touch started; sleep 30'], { signal: controller.signal }));
    // Cancelled while the line runs, however long it took to start.
    await waitForFile(join(dir, 'started'));
    controller.abort(new Error('shutting down'));
    await expect(running).rejects.toThrow('shutting down');
  });

  it('starts from the environment it is given, never the daemon’s own', async () => {
    process.env.FERRY_TEST_DAEMON_SECRET = 'daemon-only';
    try {
      await runHook(hook(['env > env.txt'], { env: { PATH: process.env.PATH, APP_VAR: 'app' } }));
    } finally {
      delete process.env.FERRY_TEST_DAEMON_SECRET;
    }
    const env = await readFile(join(dir, 'env.txt'), 'utf8');
    expect(env).toContain('APP_VAR=app');
    expect(env).not.toContain('FERRY_TEST_DAEMON_SECRET');
  });

  it('quotes a bounded end of the output: the last lines, each cut, within 2000 bytes', async () => {
    const message = await failure(
      hook([
        'i=0; while [ $i -lt 5000 ]; do echo "line $i"; i=$((i+1)); done; head -c 100000 /dev/zero | tr "\\0" x; echo; exit 1',
      ]),
    );
    const [first, ...quoted] = message.split('\n');
    expect(first).toMatch(/^before_start hook failed: .*: exit status 1$/);
    expect(quoted.length).toBeLessThanOrEqual(10);
    expect(quoted.at(-1)).toMatch(/^x{300}\.\.\. \(99700 more characters\)$/);
    expect(quoted[0]).toMatch(/^line 49\d\d$/);
    expect(Buffer.byteLength(quoted.join('\n'))).toBeLessThanOrEqual(2000);
  });

  it('hides known secrets and URL credentials in what it quotes, even in the line', async () => {
    const message = await failure(
      hook(
        [
          'echo "token $API_TOKEN"; echo "fetching https://bob:hunter22@example.com/a?X-Amz-Signature=abc123def"; echo "bearer sk-live-42"; exit 2 # sk-live-42',
        ],
        { env: { API_TOKEN: 'tok-0123456789' }, secrets: ['tok-0123456789', 'sk-live-42'] },
      ),
    );
    expect(message).not.toMatch(/tok-0123456789|hunter22|abc123def|sk-live-42/);
    expect(message).toContain('token ***');
    expect(message).toContain('fetching https://example.com/a?X-Amz-Signature=***');
  });
});
