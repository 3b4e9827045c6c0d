// A generated release for the install benches: a few large, barely compressible files and
// thousands of small js-like ones, packed as tar.gz.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { hasCommand } from './lib.mjs';

const MiB = 1024 ** 2;

/**
 * A release tree of about `size` bytes: 78% in 20 large files (random bytes, a quarter of each
 * made of 6-bit values so it compresses a little, like binaries and images), the rest in 5,000
 * js-like text files (14-80 KiB at 1 GiB) in 250 package directories; packed with tar czf (or
 * pigz when installed).
 */
export async function buildRelease(work, size) {
  const started = performance.now();
  const tree = path.join(work, 'tree');
  const largeCount = 20;
  const largeSize = Math.floor((size * 0.78) / largeCount);
  for (let i = 0; i < largeCount; i++) {
    const dir = path.join(tree, 'assets', `bundle-${i % 4}`);
    await mkdir(dir, { recursive: true });
    const data = randomBytes(largeSize);
    for (let offset = 0; offset < data.length; offset += 4 * MiB) {
      const end = Math.min(offset + MiB, data.length);
      for (let j = offset; j < end; j++) data[j] &= 0x3f;
    }
    await writeFile(path.join(dir, `blob-${i}.bin`), data);
  }
  const smallCount = 5000;
  let smallLeft = size - largeCount * largeSize;
  const lines = codeLines(4000);
  for (let i = 0; i < smallCount; i++) {
    const target = Math.max(
      1024,
      Math.round((smallLeft / (smallCount - i)) * (0.3 + (1.4 * ((i * 7919) % 1000)) / 1000)),
    );
    const parts = [];
    let length = 0;
    for (let n = i; length < target; n = (n * 1103515245 + 12345) % 2 ** 31) {
      const line = lines[n % lines.length];
      parts.push(line);
      length += line.length;
    }
    const text = parts.join('').slice(0, target);
    smallLeft -= text.length;
    const dir = path.join(tree, 'node_modules', `pkg-${i % 250}`, i % 3 === 0 ? 'lib' : 'dist');
    await mkdir(dir, { recursive: true });
    await writeFile(path.join(dir, `module-${i}.js`), text);
  }
  const archive = path.join(work, 'release.tar.gz');
  const gzip = hasCommand('pigz') ? ['-I', 'pigz'] : ['-z'];
  execFileSync('tar', ['-c', ...gzip, '-f', archive, '-C', tree, '.']);
  const sha256 = execFileSync('sha256sum', [archive], { encoding: 'utf8' }).split(' ')[0];
  const archiveBytes = (await stat(archive)).size;
  const treeBytes = Number(execFileSync('du', ['-sb', tree], { encoding: 'utf8' }).split('\t')[0]);
  console.log(
    `release: ${largeCount} files of ${mb(largeSize)} MB + ${smallCount} js-like files, ${mb(treeBytes)} MB unpacked; ` +
      `archive (tar ${gzip.join(' ')}) ${mb(archiveBytes)} MB; built in ${((performance.now() - started) / 1000).toFixed(0)} s\n`,
  );
  return { tree, archive, sha256, archiveBytes, treeBytes, files: largeCount + smallCount };
}

function codeLines(count) {
  const words = ['const', 'return', 'function', 'export', 'import', 'await', 'if', 'else', 'for', 'new'];
  const lines = [];
  for (let i = 0; i < count; i++) {
    const name = randomBytes(6).toString('base64url');
    const word = words[i % words.length];
    const indent = '  '.repeat(i % 4);
    lines.push(
      i % 5 === 0
        ? `${indent}// ${word} ${name}: keeps the ${name.slice(0, 3)} state in sync with the store\n`
        : `${indent}${word} ${name}_${i % 97} = await call(${name.slice(0, 4)}, { id: ${i}, ok: true });\n`,
    );
  }
  return lines;
}

export function mb(bytes) {
  return Math.round(bytes / MiB);
}
