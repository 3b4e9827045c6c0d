import { describe, expect, it } from 'vitest';
import { checksumOf } from './checksums.js';

const a = 'a'.repeat(64);
const b = 'B'.repeat(64);

describe('SHA256SUMS', () => {
  it('finds the asset in text and binary mode lines, and under a directory', () => {
    expect(checksumOf(`${a}  hello-1.0.0.tar.gz\n${b}  other\n`, 'hello-1.0.0.tar.gz', 'SHA256SUMS')).toEqual(
      {
        checksum: `sha256:${a}`,
      },
    );
    expect(checksumOf(`${b} *hello.tgz\r\n`, 'hello.tgz', 'SHA256SUMS')).toEqual({
      checksum: `sha256:${'b'.repeat(64)}`,
    });
    expect(checksumOf(`${a}  dist/hello.tgz\n`, 'hello.tgz', 'SHA256SUMS')).toEqual({
      checksum: `sha256:${a}`,
    });
  });

  it('a file without the asset, a malformed line or two digests: a problem, no checksum', () => {
    expect(checksumOf(`${a}  other.tgz\n`, 'hello.tgz', 'SHA256SUMS')).toEqual({
      problem: 'SHA256SUMS: expected an entry for "hello.tgz", got 1 entries for other files',
    });
    expect(checksumOf(`not a checksum line\n`, 'hello.tgz', 'SHA256SUMS')).toMatchObject({
      problem: expect.stringContaining('SHA256SUMS line 1: expected'),
    });
    expect(checksumOf(`${a.slice(0, 40)}  hello.tgz\n`, 'hello.tgz', 'SHA256SUMS')).toHaveProperty('problem');
    expect(checksumOf(`${a}  hello.tgz\n${b}  hello.tgz\n`, 'hello.tgz', 'SHA256SUMS')).toHaveProperty(
      'problem',
    );
  });
});
