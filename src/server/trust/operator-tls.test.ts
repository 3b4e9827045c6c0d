import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { certificateFingerprint, splitPemCertificates } from '../../lib/certificate-pem.js';
import { createCaCertificate, issueServerCertificate } from './certificate-factory.js';
import { loadOperatorTls } from './operator-tls.js';
import { makeOpensslChain } from './test-support/openssl-chain.js';

/** What `work` threw; fails the test when it threw nothing. */
function thrown(work: () => unknown): unknown {
  try {
    work();
  } catch (error) {
    return error;
  }
  throw new Error('expected the call to throw');
}

const YEAR = 365 * 24 * 60 * 60 * 1000;

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'ferry-operator-tls-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

function write(name: string, content: string): string {
  const file = path.join(dir, name);
  writeFileSync(file, content);
  return file;
}

/** A CA and a server certificate it signed, as files; `issuedAt` backdates the certificate. */
async function operatorFiles(prefix: string, issuedAt = Date.now()) {
  const ca = await createCaCertificate(Date.now());
  const server = await issueServerCertificate(ca, ['localhost', '127.0.0.1'], issuedAt);
  return {
    certFile: write(`${prefix}-server.pem`, server.cert),
    keyFile: write(`${prefix}-server-key.pem`, server.key),
    caFile: write(`${prefix}-ca.pem`, ca.cert),
    ca: ca.cert,
  };
}

describe("the operator's own certificate, key and CA", () => {
  it('are accepted when they belong together; the CA goes out with the chain for pinning', async () => {
    const files = await operatorFiles('a');
    const tls = loadOperatorTls(files);
    expect(tls.source).toBe('operator');
    expect(tls.caFingerprint).toBe(certificateFingerprint(new X509Certificate(files.ca)));
    expect(splitPemCertificates(tls.cert)).toHaveLength(2);
    expect(tls.key).toBe(readFileSync(files.keyFile, 'utf8'));
  });

  it('are accepted through an intermediate that follows the certificate in its file', async () => {
    const chain = await makeOpensslChain(dir);
    const certFile = write(
      'chain.pem',
      readFileSync(chain.leafCert, 'utf8') + readFileSync(chain.intermediateCert, 'utf8'),
    );
    const tls = loadOperatorTls({ certFile, keyFile: chain.leafKey, caFile: chain.rootCert });
    expect(tls.caFingerprint).toBe(certificateFingerprint(new X509Certificate(readFileSync(chain.rootCert))));
    const presented = splitPemCertificates(tls.cert).map((pem) => new X509Certificate(pem).subject);
    expect(presented).toEqual(['CN=localhost', 'CN=Test Intermediate', 'CN=Test Root']);

    // Without the intermediate, the certificate does not chain to the CA.
    expect(
      thrown(() =>
        loadOperatorTls({ certFile: chain.leafCert, keyFile: chain.leafKey, caFile: chain.rootCert }),
      ),
    ).toMatchObject({
      code: 'FERRY_E_TLS_INVALID',
      message: `${chain.leafCert}: expected a certificate issued by the CA in ${chain.rootCert} (or through intermediates that follow it in its file), got a certificate issued by "CN=Test Intermediate"`,
    });
  });

  it('are refused, naming the file, when the key is not the certificate’s', async () => {
    const a = await operatorFiles('a');
    const b = await operatorFiles('b');
    expect(thrown(() => loadOperatorTls({ ...a, keyFile: b.keyFile }))).toMatchObject({
      code: 'FERRY_E_TLS_INVALID',
      message: `${b.keyFile}: expected the private key of the certificate in ${a.certFile}, got the key of another certificate`,
      details: expect.objectContaining({ file: b.keyFile }),
    });
  });

  it('are refused, naming the file, when the certificate is of another CA', async () => {
    const a = await operatorFiles('a');
    const b = await operatorFiles('b');
    expect(thrown(() => loadOperatorTls({ ...a, caFile: b.caFile }))).toMatchObject({
      code: 'FERRY_E_TLS_INVALID',
      details: expect.objectContaining({ file: a.certFile }),
      message: expect.stringContaining(`expected a certificate issued by the CA in ${b.caFile}`),
    });
  });

  it('are refused, naming the file, when the certificate has expired', async () => {
    const files = await operatorFiles('old', Date.now() - 2 * YEAR);
    expect(thrown(() => loadOperatorTls(files))).toMatchObject({
      code: 'FERRY_E_TLS_INVALID',
      message: expect.stringMatching(
        new RegExp(
          `^${files.certFile}: expected a server certificate valid now, got a certificate that expired at 20`,
        ),
      ),
    });
  });

  it('are refused, naming the file, when one is missing, not PEM, or its key is not a key', async () => {
    const files = await operatorFiles('a');
    const missing = path.join(dir, 'missing.pem');
    expect(thrown(() => loadOperatorTls({ ...files, caFile: missing }))).toMatchObject({
      message: `${missing}: expected a readable PEM file (the CA agents trust), got ENOENT`,
    });
    const text = write('text.pem', 'hello');
    expect(thrown(() => loadOperatorTls({ ...files, certFile: text }))).toMatchObject({
      details: expect.objectContaining({ file: text }),
    });
    expect(thrown(() => loadOperatorTls({ ...files, keyFile: files.certFile }))).toMatchObject({
      code: 'FERRY_E_TLS_INVALID',
      message: expect.stringContaining(`${files.certFile}: expected an unencrypted PEM private key`),
    });
  });
});
