import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { formatLogLine } from './log-format.js';
import { createLogger } from './logger.js';
import { waitFor } from '../../test/support/wait.js';

describe('readable log lines', () => {
  it('puts time, level, app and message first, then the other fields, an error by its message only', () => {
    const line = formatLogLine(
      JSON.stringify({
        level: 50,
        time: Date.UTC(2026, 0, 2, 3, 4, 5, 678),
        pid: 42,
        app: 'hello',
        env: 'production',
        msg: 'could not update the router',
        instance: 'hello-1.0.0-ab12',
        probe: 'GET /healthz -> 503 "db down"',
        err: {
          type: 'FerryError',
          message: 'router control socket gone',
          code: 'FERRY_E_ROUTER_UNREACHABLE',
          stack: 'Error: at x.js:1',
        },
      }),
      { color: false },
    );
    expect(line).toBe(
      '03:04:05.678 ERROR [hello/production] could not update the router: router control socket gone (FERRY_E_ROUTER_UNREACHABLE) instance=hello-1.0.0-ab12 probe="GET /healthz -> 503 \\"db down\\""',
    );
    expect(line).not.toContain('x.js');
  });

  it('leaves a line that is not a JSON object as it is', () => {
    expect(formatLogLine('plain text\n', { color: false })).toBe('plain text');
    expect(formatLogLine('[1,2]', { color: false })).toBe('[1,2]');
  });

  it('writes JSON to the log file and readable lines to the terminal, secrets redacted in both', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'ferry-log-'));
    try {
      const file = path.join(dir, 'daemon.log');
      const terminal = Object.assign(new PassThrough(), { isTTY: true });
      let shown = '';
      terminal.on('data', (chunk: Buffer) => (shown += chunk.toString()));
      const logger = createLogger({ destination: file, terminal });
      logger.info(
        { token: 'tok-s3cret', headers: { authorization: 'Bearer tok-s3cret' }, app: 'hello' },
        'request seen',
      );
      await waitFor('the terminal line', () => shown.includes('request seen'));
      await waitFor('the log file line', () => readFileSync(file, 'utf8').includes('request seen'));
      expect(shown).toContain('\x1b[32mINFO \x1b[0m [hello] request seen');
      expect(shown).toContain('token=[redacted]');
      expect(shown.split('\n').filter(Boolean)).toHaveLength(1);
      expect(shown).not.toContain('tok-s3cret');
      const json = JSON.parse(readFileSync(file, 'utf8').trim()) as Record<string, unknown>;
      expect(json).toMatchObject({ msg: 'request seen', token: '[redacted]', level: 30 });
      expect(readFileSync(file, 'utf8')).not.toContain('tok-s3cret');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
