import { X509Certificate } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, get as httpsGet, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { certificateFingerprint } from '../../lib/certificate-pem.js';
// The server side, only to stand up a real server for the agent to pin.
import { createCaCertificate, issueServerCertificate } from '../../server/trust/certificate-factory.js';
import { loadOperatorTls } from '../../server/trust/operator-tls.js';
import { ensureQuickTls } from '../../server/trust/quick-tls.js';
import { makeOpensslChain } from '../../server/trust/test-support/openssl-chain.js';
import { pinnedCaFile, pinServerCa } from './server-ca.js';
import { createServerConnections } from './server-connections.js';
import { parseServerUrl } from './server-url.js';

/** What `work` threw; fails the test when it threw nothing. */
function thrown(work: () => unknown): unknown {
  try {
    work();
  } catch (error) {
    return error;
  }
  throw new Error('expected the call to throw');
}

let dir: string;
const servers: Server[] = [];

beforeEach(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'ferry-pinning-'));
});
afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => new Promise((resolve) => server.close(resolve))));
  rmSync(dir, { recursive: true, force: true });
});

/** An HTTPS server on 127.0.0.1 answering "ferry" with the given key and chain. */
async function serve(tls: { key: string; cert: string }): Promise<URL> {
  const server = createServer(tls, (_req, res) => res.end('ferry'));
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return new URL(`https://127.0.0.1:${(server.address() as AddressInfo).port}`);
}

async function get(url: URL, ca: string): Promise<string> {
  const connections = createServerConnections(ca);
  try {
    return await new Promise<string>((resolve, reject) => {
      httpsGet(url, { agent: connections }, (response) => {
        let text = '';
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => (text += chunk));
        response.once('end', () => resolve(text));
      }).once('error', reject);
    });
  } finally {
    connections.destroy();
  }
}

describe('an agent pinning its server’s CA', () => {
  it('fetches the CA once by its fingerprint, keeps it, and then talks to the server trusting only it', async () => {
    const tls = await ensureQuickTls({ dataDir: path.join(dir, 'server') });
    const url = await serve(tls);
    const agentDir = path.join(dir, 'agent');

    const pinned = await pinServerCa({ serverUrl: url, dataDir: agentDir, fingerprint: tls.caFingerprint });
    expect(pinned).toMatchObject({ source: 'fetched', fingerprint: tls.caFingerprint });
    expect(readFileSync(pinnedCaFile(agentDir), 'utf8')).toBe(pinned.pem);
    expect(certificateFingerprint(new X509Certificate(pinned.pem))).toBe(tls.caFingerprint);
    expect(await get(url, pinned.pem)).toBe('ferry');

    // A later start uses the kept CA without the network (the server may be away).
    await Promise.all(servers.splice(0).map((server) => new Promise((resolve) => server.close(resolve))));
    expect(
      await pinServerCa({ serverUrl: url, dataDir: agentDir, fingerprint: tls.caFingerprint }),
    ).toMatchObject({
      source: 'stored',
      pem: pinned.pem,
    });
    expect(await pinServerCa({ serverUrl: url, dataDir: agentDir })).toMatchObject({ source: 'stored' });
  });

  it('accepts the fingerprint as openssl prints it (upper case, colons)', async () => {
    const tls = await ensureQuickTls({ dataDir: path.join(dir, 'server') });
    const url = await serve(tls);
    const opensslForm = `sha256:${new X509Certificate(tls.ca).fingerprint256}`;
    const pinned = await pinServerCa({
      serverUrl: url,
      dataDir: path.join(dir, 'agent'),
      fingerprint: opensslForm,
    });
    expect(pinned.fingerprint).toBe(tls.caFingerprint);
  });

  it('refuses a server whose chain has no CA of the pinned fingerprint, naming expected and got', async () => {
    const tls = await ensureQuickTls({ dataDir: path.join(dir, 'server') });
    const url = await serve(tls);
    const other = await ensureQuickTls({ dataDir: path.join(dir, 'other') });
    const agentDir = path.join(dir, 'agent');
    const refusal = pinServerCa({ serverUrl: url, dataDir: agentDir, fingerprint: other.caFingerprint });
    await expect(refusal).rejects.toMatchObject({
      code: 'FERRY_E_CA_FINGERPRINT_MISMATCH',
      message: expect.stringMatching(
        new RegExp(
          `^the server at ${url.href}: expected a CA with fingerprint ${other.caFingerprint}, got a chain of .*${tls.caFingerprint} \\(CN=Ferry CA`,
        ),
      ),
      details: { expected: other.caFingerprint },
    });
    expect(existsSync(pinnedCaFile(agentDir))).toBe(false);
  });

  it("refuses the fingerprint of the server's own certificate: only a CA is pinned", async () => {
    const tls = await ensureQuickTls({ dataDir: path.join(dir, 'server') });
    const url = await serve(tls);
    const leaf = certificateFingerprint(new X509Certificate(tls.cert));
    await expect(
      pinServerCa({ serverUrl: url, dataDir: path.join(dir, 'agent'), fingerprint: leaf }),
    ).rejects.toMatchObject({
      code: 'FERRY_E_CA_FINGERPRINT_MISMATCH',
      message: expect.stringContaining('that fingerprint on a certificate that is not a CA'),
    });
  });

  it('refuses a server whose certificate is from another CA, once pinned', async () => {
    const mine = await ensureQuickTls({ dataDir: path.join(dir, 'server') });
    const impostor = await ensureQuickTls({ dataDir: path.join(dir, 'impostor') });
    const url = await serve(impostor);
    await expect(get(url, mine.ca)).rejects.toMatchObject({ code: 'SELF_SIGNED_CERT_IN_CHAIN' });
    // ...even when that server sends the pinned CA along in its chain.
    const leafOnly = impostor.cert.slice(0, impostor.cert.indexOf(impostor.ca));
    const sneaky = await serve({ key: impostor.key, cert: leafOnly + mine.ca });
    await expect(get(sneaky, mine.ca)).rejects.toMatchObject({ code: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE' });
    await expect(
      pinServerCa({ serverUrl: sneaky, dataDir: path.join(dir, 'agent'), fingerprint: mine.caFingerprint }),
    ).rejects.toMatchObject({ code: 'FERRY_E_CA_FINGERPRINT_MISMATCH' }); // a CA that did not sign is no part of its chain
  });

  it('refuses a certificate of the pinned CA that does not name the server', async () => {
    const ca = await createCaCertificate(Date.now());
    const elsewhere = await issueServerCertificate(ca, ['other.example'], Date.now());
    const url = await serve({ key: elsewhere.key, cert: elsewhere.cert + ca.cert });
    const fingerprint = certificateFingerprint(new X509Certificate(ca.cert));
    await expect(
      pinServerCa({ serverUrl: url, dataDir: path.join(dir, 'agent'), fingerprint }),
    ).rejects.toMatchObject({
      code: 'FERRY_E_SERVER_UNTRUSTED',
      message: expect.stringContaining("IP: 127.0.0.1 is not in the cert's list"),
    });
    await expect(get(url, ca.cert)).rejects.toMatchObject({ code: 'ERR_TLS_CERT_ALTNAME_INVALID' });
  });

  it("pins an operator's CA through an intermediate by fingerprint, or from a CA file", async () => {
    const chain = await makeOpensslChain(dir);
    const certFile = path.join(dir, 'chain.pem');
    writeFileSync(
      certFile,
      readFileSync(chain.leafCert, 'utf8') + readFileSync(chain.intermediateCert, 'utf8'),
    );
    const tls = loadOperatorTls({ certFile, keyFile: chain.leafKey, caFile: chain.rootCert });
    const url = await serve(tls);

    const byFingerprint = await pinServerCa({
      serverUrl: url,
      dataDir: path.join(dir, 'a'),
      fingerprint: tls.caFingerprint,
    });
    expect(await get(url, byFingerprint.pem)).toBe('ferry');
    const byFile = await pinServerCa({
      serverUrl: url,
      dataDir: path.join(dir, 'b'),
      caFile: chain.rootCert,
    });
    expect(byFile).toMatchObject({ source: 'ca-file', fingerprint: tls.caFingerprint });
    expect(await get(url, byFile.pem)).toBe('ferry');
    await expect(
      pinServerCa({ serverUrl: url, dataDir: path.join(dir, 'c'), caFile: chain.leafCert }),
    ).rejects.toMatchObject({
      code: 'FERRY_E_TLS_INVALID',
      message: expect.stringContaining(`${chain.leafCert}: expected a PEM file of CA certificates`),
    });
  });

  it('says so when the server cannot be reached, or the flags are wrong', async () => {
    const tls = await ensureQuickTls({ dataDir: path.join(dir, 'server') });
    const url = await serve(tls);
    await Promise.all(servers.splice(0).map((server) => new Promise((resolve) => server.close(resolve))));
    const agentDir = path.join(dir, 'agent');
    await expect(
      pinServerCa({ serverUrl: url, dataDir: agentDir, fingerprint: tls.caFingerprint }),
    ).rejects.toMatchObject({
      code: 'FERRY_E_SERVER_UNREACHABLE',
      message: `the server at ${url.href} cannot be reached: ECONNREFUSED`,
    });
    await expect(pinServerCa({ serverUrl: url, dataDir: agentDir })).rejects.toMatchObject({
      code: 'FERRY_E_USAGE',
    });
    await expect(
      pinServerCa({ serverUrl: url, dataDir: agentDir, fingerprint: 'sha256:abc' }),
    ).rejects.toMatchObject({
      code: 'FERRY_E_USAGE',
      message: expect.stringContaining(
        'expected --ca-fingerprint sha256: and 64 hex digits, got "sha256:abc"',
      ),
    });
    expect(thrown(() => parseServerUrl('http://user:secret@ferry.example:7443'))).toMatchObject({
      code: 'FERRY_E_USAGE',
      message:
        '--server: expected an https:// URL of the Ferry server (https://host:port), got "http://ferry.example:7443/"',
    });
  });
});
