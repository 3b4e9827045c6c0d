import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { FerryError } from '../errors/ferry-error.js';
import { fetchManifestText, parseManifest } from './manifest.js';

const MANIFEST = `
src: s3://example.com/path/to/archive.tar.gz
checksum: e0840daaa97cd2cf2175f9e5d133ffb3324a2b93
dest: {{ env "FERRY_TEST_HOME" "/home/stretcher" }}/app
dest_mode: 0751
commands:
  pre:
    - echo 'staring deploy'
  post:
    - "echo 'deploy: done'"
  success:
    - echo 'deploy success'
  failure:
    - echo 'deploy failed!!'
    - cat
excludes:
  - "*.pid"
  - "*.socket"
exclude_from: .exclude
sync_strategy: mv
`;

describe('parseManifest', () => {
  it('parses every field, renders env with its default and keeps a quoted colon', () => {
    const manifest = parseManifest(MANIFEST, {});
    expect(manifest).toEqual({
      src: 's3://example.com/path/to/archive.tar.gz',
      checksum: 'e0840daaa97cd2cf2175f9e5d133ffb3324a2b93',
      dest: '/home/stretcher/app',
      destMode: 0o751,
      commands: {
        pre: ["echo 'staring deploy'"],
        post: ["echo 'deploy: done'"],
        success: ["echo 'deploy success'"],
        failure: ["echo 'deploy failed!!'", 'cat'],
      },
      excludes: ['*.pid', '*.socket'],
      excludeFrom: '.exclude',
      syncStrategy: 'mv',
    });
    expect(parseManifest(MANIFEST, { FERRY_TEST_HOME: '/srv' }).dest).toBe('/srv/app');
  });

  it('defaults: dest_mode 0755, rsync strategy, no commands', () => {
    const manifest = parseManifest('src: file:///a.tgz\nchecksum: abc\ndest: /tmp/x\n', {});
    expect(manifest.destMode).toBe(0o755);
    expect(manifest.syncStrategy).toBe('rsync');
    expect(manifest.commands.pre).toEqual([]);
    expect(parseManifest('dest_mode: "0711"', {}).destMode).toBe(0o711);
    // Digits only: YAML would read a number; the checksum keeps its text.
    expect(parseManifest(`checksum: ${'0'.repeat(40)}`, {}).checksum).toBe('0'.repeat(40));
  });

  it.each([
    ['src: file:///a.tgz\ndest: /x', 'checksum required'],
    ['src: file:///a.tgz\nchecksum: abc', 'dest required'],
    ['sync_strategy: cp', 'invalid strategy name: cp'],
    ['dest_mode: rwx', 'dest_mode: expected an octal mode like 0755, got "rwx"'],
    ['excludes: "*.pid"', 'excludes: expected a list, got "*.pid"'],
    [
      'dest: {{ must_env "FERRY_TEST_UNSET" }}',
      'environment variable FERRY_TEST_UNSET is not set (must_env)',
    ],
    ['dest: {{ .Foo }}', 'expected {{ env "NAME" "default" }} or {{ must_env "NAME" }}, got {{ .Foo }}'],
  ])('rejects %j with %j', (text, message) => {
    expect(() => parseManifest(text, {})).toThrow(message);
  });

  it('renders must_env when set; commands-only manifests need no dest', () => {
    expect(parseManifest('dest: {{ must_env "D" }}', { D: '/d' }).dest).toBe('/d');
    expect(parseManifest('commands:\n  pre:\n    - "true"\n', {}).src).toBe('');
  });
});

describe('fetchManifestText', () => {
  it('reads file:// URLs', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ferry-manifest-'));
    try {
      await writeFile(join(dir, 'm.yml'), 'dest: /x\n');
      expect(await fetchManifestText(pathToFileURL(join(dir, 'm.yml')).href)).toBe('dest: /x\n');
      await expect(fetchManifestText(pathToFileURL(join(dir, 'missing.yml')).href)).rejects.toThrow(
        FerryError,
      );
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('reads http URLs and fails at once on a 404 with its status', async () => {
    const server: Server = createServer((req, res) => {
      if (req.url === '/m.yml') res.end('dest: /h\n');
      else res.writeHead(404).end('nope');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      expect(await fetchManifestText(`${base}/m.yml`)).toBe('dest: /h\n');
      await expect(fetchManifestText(`${base}/gone.yml`)).rejects.toThrow(
        `manifest: GET ${base}/gone.yml: expected HTTP 200, got 404 Not Found`,
      );
    } finally {
      server.close();
    }
  });

  it('refuses other schemes', async () => {
    await expect(fetchManifestText('ftp://x/y')).rejects.toThrow(
      'manifest: artifact URL ftp://x/y: expected a scheme of file://, http://, https://, s3://, gs://, got ftp://',
    );
  });
});
