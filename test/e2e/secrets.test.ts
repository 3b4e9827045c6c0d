import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type {
  DeploymentDetailResponse,
  ErrorResponse,
  HistoryResponse,
  StatusResponse,
} from '../../src/api/types.js';
import { createHarness, type FerryHarness } from '../support/ferry.js';
import { waitFor } from '../support/wait.js';

// Credentials of the artifact source: in its URL (userinfo, a token, a pre-signed signature) and a header.
const PASSWORD = 'pw-SECRET-e1f4';
const TOKEN = 'tok-SECRET-77a2';
const SIGNATURE = 'sig-SECRET-9c3d';
const CREDENTIAL = 'cred-SECRET-05b8';
const HEADER = 'hdr-SECRET-3e61';
const URL_SECRETS = [PASSWORD, TOKEN, SIGNATURE, CREDENTIAL, HEADER];
// The daemon's own cloud key (its environment), and an app variable whose name says it is secret.
const AWS_KEY = 'aws-SECRET-d00d';
const APP_PASSWORD = 'envpw-SECRET-4a4a';

/** Serves <dist>/<file> only with the source's credentials, like a private bucket or release server. */
async function startArtifactServer(): Promise<{
  server: http.Server;
  port: number;
  setRoot(dir: string): void;
}> {
  let root = '';
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const authorized =
      req.headers.authorization === `Basic ${Buffer.from(`ferry:${PASSWORD}`).toString('base64')}` &&
      url.searchParams.get('token') === TOKEN &&
      req.headers['x-api-key'] === HEADER;
    if (!authorized) return void res.writeHead(403).end('forbidden');
    const file = path.join(root, path.basename(url.pathname));
    let body: Buffer;
    try {
      body = readFileSync(file);
    } catch {
      return void res.writeHead(404).end('not found');
    }
    res.writeHead(200, { 'content-length': body.length }).end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    server,
    port: (server.address() as AddressInfo).port,
    setRoot: (dir) => (root = dir),
  };
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .map((name) => path.join(dir, name))
    .filter((file) => statSync(file, { throwIfNoEntry: false })?.isFile());
}

/** End to end: what an attacker who reads Ferry's outputs, logs and files must not find. */
describe('secrets', () => {
  let ferry: FerryHarness;
  let artifacts: Awaited<ReturnType<typeof startArtifactServer>>;
  let out: string;
  let api: (
    method: string,
    route: string,
    body?: unknown,
  ) => Promise<{ status: number; body: ErrorResponse }>;

  beforeAll(async () => {
    artifacts = await startArtifactServer();
    const base = `http://ferry:${PASSWORD}@127.0.0.1:${artifacts.port}/releases`;
    const query = `token=${TOKEN}&X-Amz-Signature=${SIGNATURE}&X-Amz-Credential=${CREDENTIAL}`;
    // Hooks and checks write what they see here; the failing release's hook prints secrets.
    out = mkdtempSync(path.join(os.tmpdir(), 'ferry-secrets-out-'));
    ferry = await createHarness({
      instances: 1,
      extraVersions: ['constructor', '1.2.0-hookfail'],
      artifact: `{ url: "${base}/hello-{version}.tar.gz?${query}", checksums: "${base}/SHA256SUMS?token=${TOKEN}", headers: { X-Api-Key: ${HEADER} } }`,
      run: `{ command: node, args: [server.mjs], env: { APP_GREETING: hello-env, APP_PASSWORD: ${APP_PASSWORD} } }`,
      healthCheck: `command: 'env > ${out}/check-env.$$ && mv ${out}/check-env.$$ ${out}/check-env; curl -fsS "http://127.0.0.1:$PORT/healthz" > /dev/null'`,
      daemonEnv: { AWS_SECRET_ACCESS_KEY: AWS_KEY },
      appExtra: `    hooks:
      before_start:
        - 'env > ${out}/hook-env-$FERRY_VERSION'
        - >-
          case "$FERRY_VERSION" in *-hookfail)
          i=0; while [ $i -lt 500 ]; do echo "migrating row $i"; i=$((i+1)); done;
          echo "token $(cat ../../../../../api-token) password $APP_PASSWORD key ${HEADER}";
          echo "GET ${base}/x.tgz?${query}";
          exit 3;; esac
`,
    });
    artifacts.setRoot(path.join(ferry.dir, 'dist'));
    await ferry.start();
    const token = readFileSync(path.join(ferry.home, 'api-token'), 'utf8').trim();
    api = async (method, route, body) => {
      const response = await fetch(`http://127.0.0.1:${ferry.apiPort}${route}`, {
        method,
        headers: {
          authorization: `Bearer ${token}`,
          ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
        },
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      });
      return { status: response.status, body: (await response.json()) as ErrorResponse };
    };
  });

  afterAll(async () => {
    await ferry?.cleanup();
    artifacts?.server.close();
    rmSync(out, { recursive: true, force: true });
  });

  it('fails a deployment whose artifact does not exist, leaving no release in the ledger', async () => {
    const missing = await ferry.cli('deploy', 'hello', '9.9.9', '--wait');
    expect(missing.code).toBe(1);
    const history = await ferry.json<HistoryResponse>('history', 'hello');
    expect(history.deployments.find((d) => d.to === '9.9.9')?.status).toBe('failed');
    expect(history.releases.map((r) => r.version)).toEqual(['1.0.0']);
  });

  it('keeps URL credentials out of the ledger, status, show, events, the log and the data directory', async () => {
    expect((await ferry.cli('deploy', 'hello', '1.1.0', '--wait')).code).toBe(0);
    const history = await ferry.json<HistoryResponse>('history', 'hello');
    const seen: Array<[string, string]> = [
      ['ferry history --json', JSON.stringify(history)],
      ['ferry history', (await ferry.cli('history', 'hello')).stdout],
      ['ferry status --json', JSON.stringify(await ferry.json<StatusResponse>('status'))],
    ];
    for (const deployment of history.deployments) {
      seen.push([`ferry show ${deployment.id}`, (await ferry.cli('show', deployment.id)).stdout]);
      const detail = await ferry.json<DeploymentDetailResponse>('show', deployment.id);
      seen.push([`events of ${deployment.id}`, JSON.stringify(detail.events)]);
    }
    seen.push(['the daemon output', ferry.output]);
    for (const file of filesUnder(ferry.home)) seen.push([file, readFileSync(file).toString('latin1')]);
    expect(seen.some(([where]) => where.endsWith('daemon.log'))).toBe(true);
    expect(seen.some(([where]) => where.endsWith('ferry.db'))).toBe(true);
    expect(seen.some(([where]) => where.endsWith('control.db'))).toBe(true);
    for (const [where, text] of seen)
      for (const secret of URL_SECRETS) expect(text.includes(secret), `${secret} in ${where}`).toBe(false);

    // The ledger names the source without its credentials, and so does the failed install.
    expect(history.releases.find((r) => r.version === '1.1.0')!.artifactUrl).toBe(
      `http://127.0.0.1:${artifacts.port}/releases/hello-1.1.0.tar.gz?token=***&X-Amz-Signature=***&X-Amz-Credential=***`,
    );
    const failed = history.deployments.find((d) => d.to === '9.9.9')!;
    expect(failed.failure?.message).toContain(`127.0.0.1:${artifacts.port}/releases/`);
    expect(failed.failure?.message).toContain('token=***');
  });

  it('gives hooks and command checks a clean environment with the app’s variables', () => {
    for (const file of ['hook-env-1.0.0', 'check-env']) {
      const env = readFileSync(path.join(out, file), 'utf8').split('\n');
      expect(env, file).toContain('APP_GREETING=hello-env');
      expect(env, file).toContain(`APP_PASSWORD=${APP_PASSWORD}`);
      expect(env, file).toContain('FERRY_APP=hello');
      expect(
        env.some((line) => line.startsWith('PATH=')),
        file,
      ).toBe(true);
      expect(
        env.filter((line) => line.includes(AWS_KEY)),
        file,
      ).toEqual([]);
      // A check is not an instance: it must not carry the markers a restarted daemon adopts by.
      expect(
        env.some((line) => line.startsWith('FERRY_INSTANCE_ID=')),
        file,
      ).toBe(false);
    }
  });

  it('keeps a failing hook’s output bounded and without known secrets', async () => {
    const token = readFileSync(path.join(ferry.home, 'api-token'), 'utf8').trim();
    const result = await ferry.cli('deploy', 'hello', '1.2.0-hookfail', '--wait');
    expect(result.code).toBe(1);
    const history = await ferry.json<HistoryResponse>('history', 'hello');
    const failed = history.deployments.find((d) => d.to === '1.2.0-hookfail')!;
    const message = failed.failure!.message;
    expect(message).toMatch(/^before_start hook failed: case .*: exit status 3\n/);
    expect(message).toContain('token *** password *** key ***');
    expect(message).toContain(`GET http://127.0.0.1:${artifacts.port}/releases/x.tgz?token=***`);
    const quoted = message.split('\n').slice(1);
    expect(quoted.length).toBeLessThanOrEqual(10);
    expect(Buffer.byteLength(quoted.join('\n'))).toBeLessThanOrEqual(2000);
    const detail = await ferry.json<DeploymentDetailResponse>('show', failed.id);
    const shown = [
      message,
      JSON.stringify(detail),
      (await ferry.cli('show', failed.id)).stdout,
      result.stdout,
    ];
    for (const text of shown)
      for (const secret of [token, APP_PASSWORD, ...URL_SECRETS]) expect(text).not.toContain(secret);
    expect((await ferry.json<StatusResponse>('status')).apps[0]!.current).toBe('1.1.0');
  });

  it('refuses `current` as a version: 400, no deployment, no release', async () => {
    const before = await ferry.json<HistoryResponse>('history', 'hello');
    const cli = await ferry.cli('deploy', 'hello', 'current');
    expect(cli.code).toBe(2);
    expect(cli.stderr).toContain('version: expected letters, digits');
    const direct = await api('POST', '/v1/deployments', { app: 'hello', version: 'current' });
    expect(direct.status).toBe(400);
    expect(direct.body.error.code).toBe('FERRY_E_USAGE');
    const after = await ferry.json<HistoryResponse>('history', 'hello');
    expect(after.deployments.map((d) => d.id)).toEqual(before.deployments.map((d) => d.id));
    expect(after.releases.some((r) => r.version === 'current')).toBe(false);
  });

  it('knows no app named after an Object.prototype key, on every route', async () => {
    for (const name of ['__proto__', 'constructor', 'toString', 'hasOwnProperty']) {
      const segment = encodeURIComponent(name);
      const answers = [
        await api('GET', `/v1/status?app=${segment}`),
        await api('POST', '/v1/deployments', { app: name, version: '1.1.0' }),
        await api('POST', '/v1/rollbacks', { app: name }),
        await api('GET', `/v1/apps/${segment}/history`),
        await api('GET', `/v1/apps/${segment}/logs`),
        await api('POST', `/v1/apps/${segment}/pause`, {}),
      ];
      for (const answer of answers) {
        expect(answer.status, `${name}: ${JSON.stringify(answer.body)}`).toBe(404);
        expect(answer.body.error.code).toBe('FERRY_E_APP_UNKNOWN');
      }
    }
    const env = await api('GET', '/v1/apps/hello/history?env=constructor');
    expect(env.body.error.code).toBe('FERRY_E_ENV_UNKNOWN');
  });

  it('deploys and serves a release named constructor', async () => {
    const result = await ferry.cli('deploy', 'hello', 'constructor', '--wait');
    expect(result.code, result.stdout + result.stderr).toBe(0);
    const body = await waitFor('the app to serve constructor', async () => {
      const response = await fetch(`http://127.0.0.1:${ferry.appPort}/`);
      const text = await response.text();
      return text.includes('constructor') ? text : null;
    });
    expect(body).toBe('hello from constructor\n');
  });
});
