import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StatusResponse } from '../../src/api/types.js';
import { requireProgram } from '../../src/lib/test-support/required-program.js';
import { createHarness, type FerryHarness } from '../support/ferry.js';

const run = promisify(execFile);

/** The API over HTTPS with a self-signed certificate, and the rule that keeps a plain API on loopback. */
describe('API TLS', () => {
  let ferry: FerryHarness;
  let certs: string;
  let cert: string;

  beforeAll(async () => {
    requireProgram('openssl');
    certs = mkdtempSync(path.join(os.tmpdir(), 'ferry-tls-'));
    cert = path.join(certs, 'cert.pem');
    const key = path.join(certs, 'key.pem');
    await run('openssl', [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-keyout',
      key,
      '-out',
      cert,
      '-days',
      '2',
      '-subj',
      '/CN=ferry-test',
      '-addext',
      'subjectAltName=IP:127.0.0.1',
    ]);
    ferry = await createHarness({ instances: 1, api: `tls: { cert: "${cert}", key: "${key}" }` });
    await ferry.start();
  });

  afterAll(async () => {
    await ferry?.cleanup();
    rmSync(certs, { recursive: true, force: true });
  });

  it('serves HTTPS; daemon.json records the https URL and the certificate the local CLI trusts', async () => {
    const info = JSON.parse(readFileSync(path.join(ferry.home, 'daemon.json'), 'utf8')) as {
      url: string;
      certFile?: string;
    };
    expect(info.url).toBe(`https://127.0.0.1:${ferry.apiPort}`);
    expect(info.certFile).toBe(cert);
    expect(ferry.output).toContain(`https://127.0.0.1:${ferry.apiPort}`);
    const status = await ferry.json<StatusResponse>('status');
    expect(status.apps[0]).toMatchObject({ app: 'hello', current: '1.0.0' });
    // Streams (SSE) go over the same trusted connection.
    const deployed = await ferry.cli('deploy', 'hello', '1.1.0', '--wait');
    expect(deployed.code, deployed.stderr).toBe(0);
  });

  it('answers no plain HTTP, and a client that does not trust the certificate gets no answer', async () => {
    await expect(fetch(`http://127.0.0.1:${ferry.apiPort}/healthz`)).rejects.toThrow();
    await expect(fetch(`https://127.0.0.1:${ferry.apiPort}/healthz`)).rejects.toThrow();
  });

  it('refuses a non-loopback API address without TLS as a configuration problem at api.listen', async () => {
    const config = path.join(certs, 'exposed.yaml');
    writeFileSync(
      config,
      'api: { listen: "0.0.0.0:7070" }\napps:\n  hello:\n    artifact: { url: "hello-{version}.tar.gz" }\n    run: { command: node }\n    listen: 8080\n',
    );
    const result = await ferry.cli('config', 'check', '-c', config);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(
      'api.listen: expected a loopback address (127.0.0.1, ::1), or api.tls for HTTPS (or api.allow_insecure: true), got "0.0.0.0"',
    );
    writeFileSync(
      config,
      readFileSync(config, 'utf8').replace('0.0.0.0:7070"', '0.0.0.0:7070", allow_insecure: true'),
    );
    expect((await ferry.cli('config', 'check', '-c', config)).code).toBe(0);
  });
});
