import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A release as the fake serves it; ids, URLs and times are filled in. */
export interface FakeReleaseInput {
  readonly tag: string;
  readonly draft?: boolean;
  readonly prerelease?: boolean;
  readonly body?: string;
  readonly publishedAt?: string;
  readonly assets?: ReadonlyArray<{ readonly name: string; readonly content: string | Buffer }>;
}

/** A request as the fake saw it. */
export interface SeenRequest {
  readonly method: string;
  readonly path: string;
  readonly headers: IncomingMessage['headers'];
  readonly status: number;
}

interface StoredAsset {
  readonly id: number;
  readonly repo: string;
  readonly tag: string;
  readonly name: string;
  readonly content: Buffer;
}

const RATE_LIMIT = 5000;

/**
 * A local server speaking the part of GitHub's REST API the release watcher uses, with response
 * shapes as GitHub documents them: list releases (ETag, 304 without spending the rate limit,
 * x-ratelimit-* headers), a release asset as JSON or (Accept: application/octet-stream) a redirect to
 * its bytes at a signed storage URL, browser download URLs, and
 * tokens (`Authorization: token|Bearer`). `basePath: '/api/v3'` serves it GitHub Enterprise style.
 */
export class FakeGithub {
  readonly seen: SeenRequest[] = [];
  /** Requests that counted against the rate limit. */
  rateUsed = 0;
  /** When set, every API request is refused as GitHub does once the limit is spent. */
  exhaustedUntil: number | null = null;
  /** Answers the next N API requests with this status. */
  failNext: { count: number; status: number } = { count: 0, status: 500 };
  private readonly releases = new Map<string, object[]>();
  private readonly assets = new Map<number, StoredAsset>();
  private nextId = 1000;
  private server: Server | null = null;

  constructor(private readonly opts: { readonly token?: string; readonly basePath?: string } = {}) {}

  /** The origin, e.g. http://127.0.0.1:1234. */
  origin = '';

  /** The base URL octokit is given: the origin plus the base path. */
  get baseUrl(): string {
    return `${this.origin}${this.opts.basePath ?? ''}`;
  }

  async start(): Promise<this> {
    this.server = createServer((req, res) => this.handle(req, res));
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.origin = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  async close(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  /** Publishes a release (newest first in the listing, as GitHub lists them). */
  publish(repo: string, input: FakeReleaseInput): void {
    const id = this.nextId++;
    const time = input.publishedAt ?? new Date(Date.UTC(2026, 0, 1) + id * 60_000).toISOString();
    const apiRepo = `${this.baseUrl}/repos/${repo}`;
    const assets = (input.assets ?? []).map((a) => {
      const asset: StoredAsset = {
        id: this.nextId++,
        repo,
        tag: input.tag,
        name: a.name,
        content: Buffer.from(a.content),
      };
      this.assets.set(asset.id, asset);
      return {
        url: `${apiRepo}/releases/assets/${asset.id}`,
        id: asset.id,
        node_id: `RA_${asset.id}`,
        name: a.name,
        label: '',
        uploader: null,
        content_type: 'application/octet-stream',
        state: 'uploaded',
        size: asset.content.length,
        download_count: 0,
        created_at: time,
        updated_at: time,
        browser_download_url: `${this.origin}/${repo}/releases/download/${input.tag}/${a.name}`,
      };
    });
    const release = {
      url: `${apiRepo}/releases/${id}`,
      html_url: `${this.origin}/${repo}/releases/tag/${input.tag}`,
      assets_url: `${apiRepo}/releases/${id}/assets`,
      upload_url: `${apiRepo}/releases/${id}/assets{?name,label}`,
      id,
      node_id: `RE_${id}`,
      tag_name: input.tag,
      target_commitish: 'main',
      name: input.tag,
      body: input.body ?? null,
      draft: input.draft ?? false,
      prerelease: input.prerelease ?? false,
      created_at: time,
      published_at: input.draft ? null : time,
      author: null,
      assets,
    };
    this.releases.set(repo, [release, ...(this.releases.get(repo) ?? [])]);
  }

  /** API requests (not downloads) seen for a path suffix like `/repos/o/r/releases`. */
  requests(suffix: string): SeenRequest[] {
    return this.seen.filter((r) => r.path.split('?')[0]!.endsWith(suffix));
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const url = new URL(req.url ?? '/', this.origin);
    const reply = (status: number, body: string | Buffer, headers: Record<string, string> = {}): void => {
      this.seen.push({
        method: req.method ?? 'GET',
        path: url.pathname + url.search,
        headers: req.headers,
        status,
      });
      res.writeHead(status, headers);
      res.end(body);
    };
    const json = (status: number, value: unknown, headers: Record<string, string> = {}): void =>
      reply(status, JSON.stringify(value), { 'content-type': 'application/json; charset=utf-8', ...headers });
    const authorized = (): boolean => {
      if (this.opts.token === undefined) return true;
      const header = req.headers.authorization ?? '';
      return header === `token ${this.opts.token}` || header === `Bearer ${this.opts.token}`;
    };
    const base = this.opts.basePath ?? '';
    const download = /^\/([^/]+\/[^/]+)\/releases\/download\/([^/]+)\/([^/]+)$/.exec(url.pathname);
    if (download !== null) {
      const asset = [...this.assets.values()].find(
        (a) => a.repo === download[1] && a.tag === download[2] && a.name === download[3],
      );
      if (asset === undefined || !authorized()) return json(404, { message: 'Not Found' });
      return reply(200, asset.content, { 'content-type': 'application/octet-stream' });
    }
    const object = /^\/objects\/(\d+)$/.exec(url.pathname);
    if (object !== null) {
      const asset = this.assets.get(Number(object[1]));
      if (asset === undefined || url.searchParams.get('signature') !== 'fake')
        return json(403, { message: 'Forbidden' });
      return reply(200, asset.content, { 'content-type': 'application/octet-stream' });
    }
    if (!url.pathname.startsWith(`${base}/repos/`)) return json(404, { message: 'Not Found' });
    const apiPath = url.pathname.slice(base.length);
    if (!authorized())
      return json(401, { message: 'Bad credentials', documentation_url: 'https://docs.github.com/rest' });
    const now = Math.floor(Date.now() / 1000);
    if (this.exhaustedUntil !== null)
      return json(
        403,
        { message: 'API rate limit exceeded', documentation_url: 'https://docs.github.com/rest' },
        {
          'x-ratelimit-limit': String(RATE_LIMIT),
          'x-ratelimit-remaining': '0',
          'x-ratelimit-reset': String(this.exhaustedUntil),
        },
      );
    if (this.failNext.count > 0) {
      this.failNext.count -= 1;
      return json(this.failNext.status, { message: 'Server Error' });
    }
    const rate = (): Record<string, string> => ({
      'x-ratelimit-limit': String(RATE_LIMIT),
      'x-ratelimit-remaining': String(RATE_LIMIT - this.rateUsed),
      'x-ratelimit-used': String(this.rateUsed),
      'x-ratelimit-reset': String(now + 3600),
      'x-ratelimit-resource': 'core',
    });
    const list = /^\/repos\/([^/]+\/[^/]+)\/releases$/.exec(apiPath);
    if (list !== null) {
      const perPage = Number(url.searchParams.get('per_page') ?? 30);
      const body = JSON.stringify((this.releases.get(list[1]!) ?? []).slice(0, perPage));
      const etag = `W/"${createHash('sha256').update(body).digest('hex').slice(0, 32)}"`;
      // GitHub: a conditional request answered 304 does not count against the rate limit.
      if (req.headers['if-none-match'] === etag) return reply(304, '', { etag, ...rate() });
      this.rateUsed += 1;
      return reply(200, body, { 'content-type': 'application/json; charset=utf-8', etag, ...rate() });
    }
    const assetMatch = /^\/repos\/([^/]+\/[^/]+)\/releases\/assets\/(\d+)$/.exec(apiPath);
    if (assetMatch !== null) {
      const asset = this.assets.get(Number(assetMatch[2]));
      if (asset === undefined || asset.repo !== assetMatch[1]) return json(404, { message: 'Not Found' });
      this.rateUsed += 1;
      // As GitHub does: the bytes are behind a redirect to a signed, token-less storage URL.
      if (req.headers.accept === 'application/octet-stream')
        return reply(302, '', { location: `${this.origin}/objects/${asset.id}?signature=fake`, ...rate() });
      return json(200, { id: asset.id, name: asset.name, size: asset.content.length }, rate());
    }
    return json(404, { message: 'Not Found' });
  }
}
