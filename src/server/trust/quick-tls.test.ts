import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FakeClock } from '../../lib/clock.js';
import { splitPemCertificates } from '../../lib/certificate-pem.js';
import { ensureQuickTls, quickTlsPaths } from './quick-tls.js';

const DAY = 24 * 60 * 60 * 1000;

let dataDir: string;
beforeEach(() => {
  dataDir = mkdtempSync(path.join(os.tmpdir(), 'ferry-quick-tls-'));
});
afterEach(() => {
  rmSync(dataDir, { recursive: true, force: true });
});

/** The fingerprint as node computes it, in the form Ferry prints: an independent check. */
function nodeFingerprint(pem: string): string {
  return `sha256:${new X509Certificate(pem).fingerprint256.replaceAll(':', '').toLowerCase()}`;
}

describe('the quick setup', () => {
  it('creates a CA and a server certificate on the first start, owner-only, and reuses them after', async () => {
    const clock = new FakeClock(Date.now());
    const first = await ensureQuickTls({ dataDir, clock, hostname: 'ferry-1' });
    const files = quickTlsPaths(dataDir);
    expect(first.created).toEqual({ ca: true, serverCertificate: true });
    expect(statSync(files.dir).mode & 0o777).toBe(0o700);
    expect(statSync(files.caKey).mode & 0o777).toBe(0o600);
    expect(statSync(files.serverKey).mode & 0o777).toBe(0o600);
    expect(first.caFingerprint).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(first.caFingerprint).toBe(nodeFingerprint(readFileSync(files.caCert, 'utf8')));

    const ca = new X509Certificate(first.ca);
    expect(ca.ca).toBe(true);
    expect(ca.publicKey.asymmetricKeyDetails).toMatchObject({ namedCurve: 'prime256v1' });
    expect(Date.parse(ca.validTo) - clock.now()).toBeGreaterThan(3640 * DAY);
    // The chain the server presents: its certificate, signed by the CA, then the CA.
    const [leafPem, caPem] = splitPemCertificates(first.cert);
    const leaf = new X509Certificate(leafPem!);
    expect(leaf.checkIssued(ca) && leaf.verify(ca.publicKey)).toBe(true);
    expect(nodeFingerprint(caPem!)).toBe(first.caFingerprint);
    expect(leaf.ca).toBe(false);
    expect(first.expiresAt - clock.now()).toBeGreaterThan(360 * DAY);
    for (const host of ['ferry-1', 'localhost']) expect(leaf.checkHost(host)).toBe(host);
    for (const ip of ['127.0.0.1', '::1']) expect(leaf.checkIP(ip)).toBe(ip);

    // A restart: the same CA and the same server certificate, nothing created.
    const again = await ensureQuickTls({ dataDir, clock, hostname: 'ferry-1' });
    expect(again.created).toEqual({ ca: false, serverCertificate: false });
    expect(again.caFingerprint).toBe(first.caFingerprint);
    expect(again.cert).toBe(first.cert);
    expect(again.key).toBe(first.key);
  });

  it('renews the server certificate when it expires within 30 days, keeping the CA', async () => {
    const clock = new FakeClock(Date.now());
    const first = await ensureQuickTls({ dataDir, clock, hostname: 'ferry-1' });
    await clock.advance(300 * DAY);
    const later = await ensureQuickTls({ dataDir, clock, hostname: 'ferry-1' });
    expect(later.cert).toBe(first.cert);

    await clock.advance(40 * DAY); // 25 days left
    const renewed = await ensureQuickTls({ dataDir, clock, hostname: 'ferry-1' });
    expect(renewed.created).toEqual({ ca: false, serverCertificate: true });
    expect(renewed.caFingerprint).toBe(first.caFingerprint);
    expect(renewed.cert).not.toBe(first.cert);
    expect(renewed.key).not.toBe(first.key);
    expect(renewed.expiresAt - clock.now()).toBeGreaterThan(360 * DAY);
  });

  it('issues a new server certificate for names the operator adds, and for a damaged one', async () => {
    const first = await ensureQuickTls({ dataDir, hostname: 'ferry-1' });
    const named = await ensureQuickTls({
      dataDir,
      hostname: 'ferry-1',
      names: ['ferry.example.com', '10.0.0.7'],
    });
    expect(named.created.serverCertificate).toBe(true);
    const leaf = new X509Certificate(splitPemCertificates(named.cert)[0]!);
    expect(leaf.checkHost('ferry.example.com')).toBe('ferry.example.com');
    expect(leaf.checkIP('10.0.0.7')).toBe('10.0.0.7');
    expect(leaf.checkHost('localhost')).toBe('localhost');

    writeFileSync(quickTlsPaths(dataDir).serverCert, 'garbage');
    const repaired = await ensureQuickTls({
      dataDir,
      hostname: 'ferry-1',
      names: ['ferry.example.com', '10.0.0.7'],
    });
    expect(repaired.created).toEqual({ ca: false, serverCertificate: true });
    expect(repaired.caFingerprint).toBe(first.caFingerprint);
  });

  it('refuses a CA whose key is gone or is not its own, naming the file, and replaces nothing', async () => {
    await ensureQuickTls({ dataDir, hostname: 'ferry-1' });
    const files = quickTlsPaths(dataDir);
    const ca = readFileSync(files.caCert, 'utf8');
    unlinkSync(files.caKey);
    await expect(ensureQuickTls({ dataDir, hostname: 'ferry-1' })).rejects.toMatchObject({
      code: 'FERRY_E_TLS_INVALID',
      message: expect.stringContaining(
        `${files.caKey}: expected the private key of the CA in ${files.caCert}`,
      ),
    });
    expect(readFileSync(files.caCert, 'utf8')).toBe(ca);

    writeFileSync(files.caKey, readFileSync(files.serverKey));
    await expect(ensureQuickTls({ dataDir, hostname: 'ferry-1' })).rejects.toMatchObject({
      code: 'FERRY_E_TLS_INVALID',
      details: { file: files.caKey },
    });
  });

  it('refuses a name that is neither a DNS name nor an IP address', async () => {
    await expect(ensureQuickTls({ dataDir, names: ['bad name/x'] })).rejects.toMatchObject({
      code: 'FERRY_E_USAGE',
      message: expect.stringContaining('"bad name/x"'),
    });
  });
});
