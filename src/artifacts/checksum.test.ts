import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { isFerryError } from '../errors/ferry-error.js';
import { formatChecksum, MultiHasher, parseChecksum } from './checksum.js';
import { findChecksumFor, parseChecksumsFile } from './checksums-file.js';

const hex = (length: number, digit = 'a'): string => digit.repeat(length);

describe('parseChecksum', () => {
  it.each([
    [hex(32), 'md5', hex(32)],
    [hex(40), 'sha1', hex(40)],
    [hex(64), 'sha256', hex(64)],
    [hex(128), 'sha512', hex(128)],
    [`sha256:${hex(64, 'b')}`, 'sha256', hex(64, 'b')],
    [`md5:${hex(32)}`, 'md5', hex(32)],
    [`sha512:${hex(128)}`, 'sha512', hex(128)],
    [hex(64, 'F'), 'sha256', hex(64, 'f')],
    [`SHA256:${hex(64, 'C')}`, 'sha256', hex(64, 'c')],
    [`  ${hex(40)}\n`, 'sha1', hex(40)],
  ])('parses %s as %s', (text, algorithm, expectedHex) => {
    expect(parseChecksum(text)).toEqual({ algorithm, hex: expectedHex });
  });

  it.each([
    ['', 'empty'],
    [hex(63), 'a length of no algorithm'],
    [hex(65), 'a length of no algorithm'],
    [`${hex(63)}g`, 'not hex'],
    [`sha256:${hex(32)}`, 'a prefix that disagrees with the length'],
    [`sha3:${hex(64)}`, 'an unknown algorithm'],
    [`sha256:`, 'a prefix without hex'],
  ])('rejects %j (%s) with FERRY_E_CHECKSUM_INVALID', (text) => {
    let caught: unknown;
    try {
      parseChecksum(text);
    } catch (error) {
      caught = error;
    }
    expect(isFerryError(caught, 'FERRY_E_CHECKSUM_INVALID')).toBe(true);
    expect((caught as Error).message).toMatch(/invalid checksum: expected .*, got /);
  });

  it('formats back to algorithm:hex', () => {
    expect(formatChecksum(parseChecksum(hex(64, 'D')))).toBe(`sha256:${hex(64, 'd')}`);
  });
});

describe('MultiHasher', () => {
  it('computes every algorithm over the same bytes', () => {
    const hasher = new MultiHasher(['sha256', 'md5', 'sha256']);
    hasher.update(Buffer.from('hello '));
    hasher.update(Buffer.from('world'));
    expect(hasher.digest()).toEqual({
      sha256: createHash('sha256').update('hello world').digest('hex'),
      md5: createHash('md5').update('hello world').digest('hex'),
    });
  });
});

describe('checksums files', () => {
  const a = hex(64, 'a');
  const b = hex(64, 'b');

  it('reads text and binary mode lines, skipping blanks and comments', () => {
    const entries = parseChecksumsFile(`# release 1.2\n${a}  app.tar.gz\n\n${b} *other.bin\r\n`, 'SUMS');
    expect(entries.map((entry) => [entry.name, entry.checksum.hex])).toEqual([
      ['app.tar.gz', a],
      ['other.bin', b],
    ]);
  });

  it('finds the exact name first, else a unique entry with that last path component', () => {
    const entries = parseChecksumsFile(`${a}  ./dist/app.tar.gz\n${b}  app.tar.gz.sig\n`, 'SUMS');
    expect(findChecksumFor(entries, 'app.tar.gz', 'SUMS').hex).toBe(a);
  });

  it('names the file it has no entry for', () => {
    const entries = parseChecksumsFile(`${a}  other.tar.gz\n`, 'https://host/SHA256SUMS');
    expect(() => findChecksumFor(entries, 'app.tar.gz', 'https://host/SHA256SUMS')).toThrow(
      'https://host/SHA256SUMS: expected an entry for "app.tar.gz", got 1 entries for other files',
    );
  });

  it('rejects a malformed line with its number', () => {
    expect(() => parseChecksumsFile(`${a}  ok\nnot a checksum line\n`, 'SUMS')).toThrow(
      /SUMS line 2: expected/,
    );
  });
});
