#!/usr/bin/env node
// Builds the example app's release tarballs: dist/hello-<version>.tar.gz, each holding server.mjs and
// VERSION at the archive root, plus dist/SHA256SUMS. Archives are deterministic (fixed mtime and
// modes, sorted entries, no owner or time metadata), so the same version always has the same checksum.
//
//   node examples/hello/build.mjs [--out DIR] [--version X]...
import { createHash } from 'node:crypto';
import { chmod, copyFile, mkdir, mkdtemp, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import console from 'node:console';
import process from 'node:process';
import { URL, fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import * as tar from 'tar';

const DEFAULT_VERSIONS = ['1.0.0', '1.1.0', '2.0.0-unhealthy', '2.0.1-errors'];
const FIXED_MTIME = new Date('2024-01-01T00:00:00Z');
const VERSION_PATTERN = /^[0-9A-Za-z][0-9A-Za-z._+-]*$/;
const here = fileURLToPath(new URL('.', import.meta.url));

async function main() {
  const { outDir, versions } = readArguments();
  await mkdir(outDir, { recursive: true });
  for (const version of versions) {
    const file = await buildRelease(version, outDir);
    const digest = createHash('sha256')
      .update(await readFile(file))
      .digest('hex');
    console.log(`built ${shown(file)} (sha256 ${digest})`);
  }
  console.log(`wrote ${shown(await writeChecksums(outDir))}`);
}

/** A path relative to the working directory when it lies inside it, else absolute. */
function shown(file) {
  const path = relative(process.cwd(), file);
  return path.startsWith('..') ? file : path;
}

function readArguments() {
  let parsed;
  try {
    parsed = parseArgs({
      options: { out: { type: 'string' }, version: { type: 'string', multiple: true } },
      allowPositionals: false,
    });
  } catch (error) {
    usage(error.message);
  }
  const extra = parsed.values.version ?? [];
  for (const version of extra) {
    if (!VERSION_PATTERN.test(version)) {
      usage(
        `--version: expected letters, digits and . _ + - (starting with a letter or digit), got ${JSON.stringify(version)}`,
      );
    }
  }
  const outDir = resolve(parsed.values.out ?? join(here, 'dist'));
  return { outDir, versions: [...new Set([...DEFAULT_VERSIONS, ...extra])] };
}

/** Writes hello-<version>.tar.gz into outDir (atomically: a reader never sees half an archive). */
async function buildRelease(version, outDir) {
  const staging = await mkdtemp(join(tmpdir(), 'ferry-hello-'));
  try {
    await copyFile(join(here, 'app', 'server.mjs'), join(staging, 'server.mjs'));
    await writeFile(join(staging, 'VERSION'), `${version}\n`);
    // Entry modes come from the files; pin them so the umask cannot change the checksum.
    await chmod(join(staging, 'server.mjs'), 0o644);
    await chmod(join(staging, 'VERSION'), 0o644);
    const file = join(outDir, `hello-${version}.tar.gz`);
    const partial = `${file}.partial`;
    await tar.create({ file: partial, cwd: staging, gzip: true, portable: true, mtime: FIXED_MTIME }, [
      'VERSION',
      'server.mjs',
    ]);
    await rename(partial, file);
    return file;
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
}

/** SHA256SUMS covers every hello tarball in outDir, including those of earlier builds. */
async function writeChecksums(outDir) {
  const names = (await readdir(outDir)).filter((name) => /^hello-.+\.tar\.gz$/.test(name)).sort();
  const lines = [];
  for (const name of names) {
    const digest = createHash('sha256')
      .update(await readFile(join(outDir, name)))
      .digest('hex');
    lines.push(`${digest}  ${name}\n`);
  }
  const file = join(outDir, 'SHA256SUMS');
  await writeFile(file, lines.join(''));
  return file;
}

function usage(problem) {
  console.error(`build.mjs: ${problem}\nusage: node examples/hello/build.mjs [--out DIR] [--version X]...`);
  process.exit(2);
}

main().catch((error) => {
  console.error(`build.mjs: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
