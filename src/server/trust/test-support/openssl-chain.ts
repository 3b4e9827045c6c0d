import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { requireProgram } from '../../../lib/test-support/required-program.js';

const run = promisify(execFile);

/** Files of a chain made by openssl: root CA -> intermediate CA -> server certificate. */
export interface OpensslChain {
  readonly rootCert: string;
  readonly intermediateCert: string;
  readonly leafCert: string;
  readonly leafKey: string;
}

const EC = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

/** A three-level chain in `dir`, made by openssl (an issuer other than Ferry's own code). */
export async function makeOpensslChain(
  dir: string,
  leafNames = 'IP:127.0.0.1,DNS:localhost',
): Promise<OpensslChain> {
  requireProgram('openssl');
  const file = (name: string) => path.join(dir, name);
  const caExt = file('ca.ext');
  const leafExt = file('leaf.ext');
  writeFileSync(caExt, 'basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\n');
  writeFileSync(
    leafExt,
    `basicConstraints=critical,CA:FALSE\nextendedKeyUsage=serverAuth\nsubjectAltName=${leafNames}\n`,
  );
  await run('openssl', [
    'req',
    '-x509',
    ...EC,
    '-keyout',
    file('root.key'),
    '-out',
    file('root.pem'),
    '-days',
    '30',
    '-subj',
    '/CN=Test Root',
    '-addext',
    'basicConstraints=critical,CA:TRUE',
    '-addext',
    'keyUsage=critical,keyCertSign,cRLSign',
  ]);
  const sign = async (name: string, subject: string, issuer: string, ext: string, serial: string) => {
    await run('openssl', [
      'req',
      ...EC,
      '-keyout',
      file(`${name}.key`),
      '-out',
      file(`${name}.csr`),
      '-subj',
      subject,
    ]);
    await run('openssl', [
      'x509',
      '-req',
      '-in',
      file(`${name}.csr`),
      '-CA',
      file(`${issuer}.pem`),
      '-CAkey',
      file(`${issuer}.key`),
      '-set_serial',
      serial,
      '-days',
      '30',
      '-extfile',
      ext,
      '-out',
      file(`${name}.pem`),
    ]);
  };
  await sign('intermediate', '/CN=Test Intermediate', 'root', caExt, '11');
  await sign('leaf', '/CN=localhost', 'intermediate', leafExt, '12');
  return {
    rootCert: file('root.pem'),
    intermediateCert: file('intermediate.pem'),
    leafCert: file('leaf.pem'),
    leafKey: file('leaf.key'),
  };
}
