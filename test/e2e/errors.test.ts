import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ErrorResponse, HistoryResponse } from '../../src/api/types.js';
import { createHarness, type FerryHarness } from '../support/ferry.js';
import { waitFor } from '../support/wait.js';

/** Errors as users meet them, from the real binary and the real daemon's API. */
describe('errors from a running daemon', () => {
  let ferry: FerryHarness;
  let token: string;

  beforeAll(async () => {
    ferry = await createHarness({ instances: 1 });
    await ferry.start();
    token = readFileSync(path.join(ferry.home, 'api-token'), 'utf8').trim();
  });

  afterAll(async () => {
    await ferry?.cleanup();
  });

  async function api(method: string, route: string, body?: unknown) {
    const response = await fetch(`http://127.0.0.1:${ferry.apiPort}${route}`, {
      method,
      headers: {
        authorization: `Bearer ${token}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return { status: response.status, body: (await response.json()) as ErrorResponse };
  }

  /** Bytes as they are, over a real socket: what no HTTP client would send. */
  function raw(bytes: string): Promise<string> {
    return new Promise((resolve) => {
      const socket = net.connect(ferry.apiPort, '127.0.0.1', () => socket.write(bytes));
      let text = '';
      socket.setEncoding('utf8');
      socket.on('data', (chunk: string) => (text += chunk));
      socket.on('close', () => resolve(text));
      socket.on('error', () => undefined);
      socket.setTimeout(10_000, () => socket.destroy());
      // The server closes after its answer to a refused request; a routed one is ended here.
      socket.on('data', () => {
        if (/\r\n\r\n\{.*\}$/s.test(text)) socket.end();
      });
    });
  }

  it('deploying a version that does not exist fails at once with FERRY_E_RELEASE_UNKNOWN and the versions found', async () => {
    const result = await ferry.cli('deploy', 'hello', '9.9.9', '--wait');
    expect(result.code).toBe(1);
    const dist = path.join(ferry.dir, 'dist');
    const versions = readdirSync(dist)
      .map((name) => /^hello-(.+)\.tar\.gz$/.exec(name)?.[1])
      .filter((v): v is string => v !== undefined)
      .sort((a, b) => a.localeCompare(b, 'en', { numeric: true }));
    expect(result.stdout).toContain(
      `failure: FERRY_E_RELEASE_UNKNOWN: no release "9.9.9" of hello: file://${dist}/SHA256SUMS: expected an entry for "hello-9.9.9.tar.gz"`,
    );
    expect(result.stdout).toContain(`versions found in ${dist}: ${versions.join(', ')}`);
    const history = await ferry.json<HistoryResponse>('history', 'hello');
    expect(history.deployments[0]).toMatchObject({
      to: '9.9.9',
      status: 'failed',
      failure: { code: 'FERRY_E_RELEASE_UNKNOWN' },
    });
    // Nothing entered the ledger, and 1.0.0 still serves.
    expect(history.releases.map((r) => r.version)).not.toContain('9.9.9');

    // ferry status: the past failure in one line, pointing to the deployment's details.
    const status = await ferry.cli('status');
    const id = history.deployments[0]!.id;
    expect(status.stdout).toMatch(
      new RegExp(
        `\\n {4}last failure: FERRY_E_RELEASE_UNKNOWN: no release "9\\.9\\.9" .*\\(details: ferry show ${id}\\)\\n?`,
      ),
    );
    expect(status.stdout).not.toMatch(/^\s+failure:/m);
  });

  it('an unknown environment is 404 FERRY_E_ENV_UNKNOWN on every route that takes one', async () => {
    const calls: Array<[string, string, unknown?]> = [
      ['GET', '/v1/status?env=nope'],
      ['GET', '/v1/status?app=hello&env=nope'],
      ['GET', '/v1/apps/hello/history?env=nope'],
      ['GET', '/v1/apps/hello/logs?env=nope'],
      ['POST', '/v1/deployments', { app: 'hello', version: '1.1.0', env: 'nope' }],
      ['POST', '/v1/rollbacks', { app: 'hello', env: 'nope' }],
      ['POST', '/v1/apps/hello/pause', { env: 'nope' }],
      ['POST', '/v1/apps/hello/abort', { env: 'nope', force: true }],
      ['POST', '/v1/apps/hello/canary', { env: 'nope', weight: 10 }],
    ];
    for (const [method, route, body] of calls) {
      const response = await api(method, route, body);
      expect(response.status, `${method} ${route}`).toBe(404);
      expect(response.body.error, `${method} ${route}`).toMatchObject({
        code: 'FERRY_E_ENV_UNKNOWN',
        message: 'no environment named "nope" (known: production)',
        details: { got: 'nope', known: ['production'] },
      });
    }
    const status = await ferry.cli('status', '--env', 'nope');
    expect(status.code).toBe(2);
    expect(status.stderr).toContain('no environment named "nope" (known: production)');
  });

  it('answers the envelope before authentication and routing', async () => {
    const longParam = await raw(`GET /v1/deployments/${'d'.repeat(150)} HTTP/1.1\r\nHost: x\r\n\r\n`);
    expect(longParam).toMatch(/^HTTP\/1\.1 414 /);
    expect(longParam).toContain('"code":"FERRY_E_URL_TOO_LONG"');
    const bigHeaders = await raw(
      `GET /v1/status HTTP/1.1\r\nHost: x\r\nX-Pad: ${'p'.repeat(20_000)}\r\n\r\n`,
    );
    expect(bigHeaders).toMatch(/^HTTP\/1\.1 431 /);
    expect(bigHeaders).toContain('"code":"FERRY_E_HEADERS_TOO_LARGE"');
    const unknown = await api('GET', '/v1/nope');
    expect(unknown).toMatchObject({ status: 404, body: { error: { code: 'FERRY_E_ROUTE_UNKNOWN' } } });
    const method = await api('DELETE', '/v1/status');
    expect(method).toMatchObject({ status: 405, body: { error: { code: 'FERRY_E_METHOD_NOT_ALLOWED' } } });
  });

  it("writes the environment's name in the daemon log", async () => {
    const log = path.join(ferry.home, 'daemon.log');
    const text = await waitFor('a log line naming the environment', () => {
      const content = readFileSync(log, 'utf8');
      return content.includes('"env":"production"') ? content : null;
    });
    expect(text).not.toContain('"env":"[redacted]"');
  });

  it('ferry config check: an unquoted {version} in a flow mapping is one message with a caret and the fix', async () => {
    const bad = path.join(ferry.dir, 'braces.yaml');
    writeFileSync(
      bad,
      readFileSync(ferry.configPath, 'utf8').replace(
        /artifact: .*/,
        'artifact: { url: dist/hello-{version}.tar.gz, checksums: dist/SHA256SUMS }',
      ),
    );
    const result = await ferry.cli('config', 'check', '-c', bad);
    expect(result.code).toBe(2);
    const lines = result.stderr.trimEnd().split('\n');
    expect(lines).toHaveLength(5);
    expect(lines[0]).toMatch(/^ferry: .*braces\.yaml:\d+:33: YAML syntax error: unexpected "\{"$/);
    expect(lines[1]).toMatch(/\| {5}artifact: \{ url: dist\/hello-\{version\}\.tar\.gz, checksums/);
    expect(lines[2]).toMatch(/\| {33}\^$/);
    expect(lines[3]).toBe(
      '  hint: inside { ... } braces start a mapping, so a value holding them must be quoted: url: "dist/hello-{version}.tar.gz"',
    );
    expect(lines[4]).toBe('  (FERRY_E_CONFIG_INVALID)');
  });
});
