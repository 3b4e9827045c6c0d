import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createLogger } from './logger.js';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** The JSON lines a real daemon logger writes to its file, once `count` of them are there. */
async function logged(write: (logger: ReturnType<typeof createLogger>) => void, count: number) {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'ferry-log-'));
  dirs.push(dir);
  const file = path.join(dir, 'daemon.log');
  write(createLogger({ destination: file }));
  // The logger writes asynchronously: poll the file (bounded) until the lines are there.
  let lines: string[] = [];
  for (let tries = 0; tries < 200 && lines.length < count; tries++) {
    // The file itself appears once the logger has opened it.
    const text = existsSync(file) ? readFileSync(file, 'utf8').trim() : '';
    lines = text === '' ? [] : text.split('\n');
    if (lines.length < count) await new Promise((resolve) => setTimeout(resolve, 50));
  }
  expect(lines).toHaveLength(count);
  return lines.map((line) => JSON.parse(line) as Record<string, unknown>);
}

describe('the daemon log', () => {
  it("writes the environment's name, on a line and as a child's binding", async () => {
    const [line, child, nested] = await logged((logger) => {
      logger.info({ app: 'web', env: 'production' }, 'pruned old releases');
      logger.child({ app: 'web', env: 'staging' }).info('instance started');
      logger.info({ deployment: { app: 'web', env: 'qa-2' } }, 'deployment');
    }, 3);
    expect(line).toMatchObject({ app: 'web', env: 'production' });
    expect(child).toMatchObject({ app: 'web', env: 'staging' });
    expect(nested).toMatchObject({ deployment: { env: 'qa-2' } });
  });

  it('hides variables, tokens and headers wherever they appear', async () => {
    const secret = 'hunter2-SECRET';
    const lines = await logged((logger) => {
      logger.info({ env: { DB_PASSWORD: secret } }, 'a variables map under env');
      logger.info({ app: { run: { env: { GREETING: secret } } } }, 'an app config');
      logger.info({ run: { env: 'production' } }, 'run.env is never a name');
      logger.info({ env: `PASSWORD=${secret}` }, 'text that is not a name');
      logger.info({ token: secret, request: { headers: { authorization: `Bearer ${secret}` } } }, 'auth');
    }, 5);
    const text = JSON.stringify(lines);
    expect(text).not.toContain(secret);
    expect(lines[0]).toMatchObject({ env: '[redacted]' });
    expect(lines[1]).toMatchObject({ app: { run: { env: '[redacted]' } } });
    expect(lines[2]).toMatchObject({ run: { env: '[redacted]' } });
    expect(lines[3]).toMatchObject({ env: '[redacted]' });
    expect(lines[4]).toMatchObject({ token: '[redacted]', request: { headers: '[redacted]' } });
  });
});
