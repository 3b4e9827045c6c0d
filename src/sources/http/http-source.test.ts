import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { waitFor } from '../../../test/support/wait.js';
import type { FerryConfig } from '../../config/types.js';
import { FakeClock } from '../../lib/clock.js';
import { openSqliteKvStore } from '../../store/kv/sqlite-kv.js';
import { startReleaseSources } from '../release-sources.js';
import { RecordingIntake, capturingLogger, configWithSources } from '../test-support/harness.js';

const dir = mkdtempSync(path.join(tmpdir(), 'ferry-http-source-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const API_KEY = 'doc-api-key-0123456789';
const digest = 'c'.repeat(64);

/** A release document server: ETag and Last-Modified from the document's revision, 304 when unchanged. */
class DocumentServer {
  body = '{}';
  revision = 1;
  /** Answers every request with this status (and headers) while set. */
  failing: { status: number; headers: Record<string, string> } | null = null;
  readonly seen: Array<{ headers: IncomingMessage['headers']; status: number }> = [];
  private server: Server | null = null;
  url = '';

  set(document: unknown): void {
    this.body = typeof document === 'string' ? document : JSON.stringify(document);
    this.revision += 1;
  }

  async start(): Promise<this> {
    this.server = createServer((req, res) => {
      const etag = `"rev-${this.revision}"`;
      const lastModified = new Date(Date.UTC(2026, 0, 1) + this.revision * 1000).toUTCString();
      if (this.failing !== null) {
        this.seen.push({ headers: req.headers, status: this.failing.status });
        res.writeHead(this.failing.status, this.failing.headers);
        return res.end('unavailable');
      }
      const status = req.headers['if-none-match'] === etag ? 304 : 200;
      this.seen.push({ headers: req.headers, status });
      res.writeHead(status, { etag, 'last-modified': lastModified, 'content-type': 'application/json' });
      res.end(status === 304 ? '' : this.body);
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/releases.json`;
    return this;
  }

  async close(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => this.server?.close(() => resolve()));
  }
}

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function setup(format: 'index' | 'latest') {
  const server = await new DocumentServer().start();
  cleanups.push(() => server.close());
  const kv = await openSqliteKvStore(':memory:');
  cleanups.push(() => kv.close());
  const intake = new RecordingIntake();
  const { logger, lines } = capturingLogger();
  const config: { current: FerryConfig } = {
    current: configWithSources(
      `    sources:
      http:
        url: ${server.url}
        format: ${format}
        headers: { X-Api-Key: ${API_KEY} }
`,
      { dir },
    ),
  };
  const clock = new FakeClock(Date.now());
  const sources = startReleaseSources({ config, kv, intake, clock, logger });
  cleanups.push(() => sources.stop());
  return { server, intake, lines, sources, clock };
}

describe('HTTP release document watcher', () => {
  it('an index: new releases offered oldest first, relative URLs resolved, validators sent, 304 = nothing new', async () => {
    const { server, intake, sources, lines } = await setup('index');
    server.set({ releases: [{ version: '1.0.0', url: 'hello-1.0.0.tar.gz', checksum: `sha256:${digest}` }] });
    await sources.pollNow('hello');
    expect(intake.offers).toEqual([
      {
        app: 'hello',
        version: '1.0.0',
        artifact: {
          url: server.url.replace('releases.json', 'hello-1.0.0.tar.gz'),
          checksum: `sha256:${digest}`,
        },
        changelog: null,
        publishedAt: null,
        env: null,
        trigger: { kind: 'watcher', actor: 'watcher:http:hello' },
      },
    ]);
    await sources.pollNow('hello');
    expect(server.seen.map((s) => s.status)).toEqual([200, 304]);
    expect(server.seen[0]?.headers['x-api-key']).toBe(API_KEY);
    expect(server.seen[1]?.headers['if-none-match']).toBe(`"rev-${server.revision}"`);
    expect(server.seen[1]?.headers['if-modified-since']).toMatch(/GMT$/);

    server.set({
      releases: [
        { version: '1.10.0', url: 'https://cdn.example.com/hello-1.10.0.tar.gz', changelog: 'Faster' },
        { version: '1.0.0', url: 'hello-1.0.0.tar.gz', checksum: `sha256:${digest}` },
        { version: '1.2.0', url: 'https://cdn.example.com/hello-1.2.0.tar.gz', checksum: digest },
      ],
    });
    await sources.pollNow('hello');
    expect(intake.versions()).toEqual(['1.0.0', '1.2.0', '1.10.0']);
    expect(intake.offers[1]?.artifact?.checksum).toBe(`sha256:${digest}`);
    expect(intake.offers[2]?.changelog).toBe('Faster');
    expect(lines.join('\n')).not.toContain(API_KEY);
  });

  it('a latest document: its one release, offered once', async () => {
    const { server, intake, sources } = await setup('latest');
    server.set({
      version: '2.0.0',
      url: 'https://cdn.example.com/a.tgz',
      published_at: '2026-01-02T03:04:05Z',
    });
    await sources.pollNow('hello');
    server.set({
      version: '2.0.0',
      url: 'https://cdn.example.com/a.tgz',
      published_at: '2026-01-02T03:04:05Z',
    });
    await sources.pollNow('hello');
    server.set({ version: '2.1.0', url: 'https://cdn.example.com/b.tgz' });
    await sources.pollNow('hello');
    expect(intake.versions()).toEqual(['2.0.0', '2.1.0']);
    expect(intake.offers[0]?.publishedAt).toBe(Date.parse('2026-01-02T03:04:05Z'));
  });

  it('a bad document is refused with a reason naming the field; nothing is offered', async () => {
    const { server, intake, sources, lines } = await setup('index');
    server.set({ releases: [{ version: '1.0.0' }] });
    await sources.pollNow('hello');
    server.set('not json');
    await sources.pollNow('hello');
    server.set({ releases: [{ version: '../etc', url: 'x.tgz' }] });
    await sources.pollNow('hello');
    server.set({ releases: [{ version: '1.0.0', url: 'x.tgz', checksum: 'abc' }] });
    await sources.pollNow('hello');
    expect(intake.offers).toEqual([]);
    const refused = lines.filter(
      (l) => l.includes('release document refused') || l.includes('release skipped'),
    );
    expect(refused.join('\n')).toContain('releases.0.url');
    expect(refused.join('\n')).toContain('expected JSON');
    expect(refused.join('\n')).toContain('../etc');
    expect(refused.join('\n')).toContain('releases.0.checksum');
  });

  it('a failing server backs off; 429 with Retry-After waits as asked', async () => {
    const { server, intake, sources, clock } = await setup('latest');
    server.failing = { status: 500, headers: {} };
    await sources.pollNow('hello');
    expect(sources.nextPollAt('hello', 'http')).toBe(clock.now() + 120_000);
    server.failing = { status: 429, headers: { 'retry-after': '900' } };
    await sources.pollNow('hello');
    expect(sources.nextPollAt('hello', 'http')).toBe(clock.now() + 900_000);
    server.failing = null;
    server.set({ version: '1.0.0', url: 'https://cdn.example.com/a.tgz' });
    await clock.advance(900_000);
    await waitFor('the poll after Retry-After', () => intake.offers.length === 1);
  });
});
