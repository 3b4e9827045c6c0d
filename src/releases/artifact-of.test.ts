import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../config/load.js';
import { appSpecOf } from '../protocol/app-spec.js';
import { catalogArtifacts } from './artifact-of.js';
import type { CatalogEntry } from './release.js';

const dir = mkdtempSync(path.join(tmpdir(), 'ferry-artifact-of-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const TOKEN = 'ghp_0123456789abcdefghijklmnopqrstuvwxyz';
const config = parseConfig(
  `
environments: { production: {} }
apps:
  web:
    artifact: { url: "https://releases.example.com/web-{version}.tar.gz", checksums: "https://releases.example.com/SHA256SUMS", headers: { x-key: artifact-secret } }
    run: { command: node, args: [server.mjs] }
    listen: 8080
    triggers: { generic: { secret: "webhook-secret-0123456789" } }
    sources:
      github: { repository: acme/web, asset: "web-*.tar.gz", token_env: GH_TOKEN, base_url: "https://ghe.example.com/api/v3" }
      http: { url: "https://index.example.com/web.json", format: index, headers: { authorization: "Bearer index-secret" } }
`,
  { configPath: path.join(dir, 'ferry.yaml'), env: { FERRY_HOME: dir, GH_TOKEN: TOKEN } },
);
const live = { current: config };

function entry(url: string, actor: string, kind: 'watcher' | 'webhook' = 'watcher'): CatalogEntry {
  return {
    app: 'web',
    version: '1.2.0',
    artifact: { url, checksum: `sha256:${'a'.repeat(64)}` },
    changelog: null,
    publishedAt: null,
    trigger: { kind, actor },
    recordedAt: 1,
  };
}

const resolve = (e: CatalogEntry) =>
  catalogArtifacts({ get: () => Promise.resolve(e) }, live)('web', '1.2.0');

describe('catalogArtifacts', () => {
  it("fetches the GitHub watcher's asset with its token, as bytes, from its own API only", async () => {
    const asset = 'https://ghe.example.com/api/v3/repos/acme/web/releases/assets/7';
    expect(await resolve(entry(asset, 'watcher:github:acme/web'))).toEqual({
      url: asset,
      checksum: `sha256:${'a'.repeat(64)}`,
      headers: { authorization: `Bearer ${TOKEN}`, accept: 'application/octet-stream' },
    });
    // A public download URL elsewhere, another repository's watcher, or a webhook: no token.
    for (const e of [
      entry('https://objects.example.net/web.tar.gz', 'watcher:github:acme/web'),
      entry(asset, 'watcher:github:acme/other'),
      entry(asset, 'webhook:generic:d-1', 'webhook'),
    ])
      expect((await resolve(e))?.headers).toBeUndefined();
  });

  it("sends the HTTP source's headers to artifacts on the index's origin only", async () => {
    const own = await resolve(entry('https://index.example.com/web-1.2.0.tar.gz', 'watcher:http:web'));
    expect(own?.headers).toEqual({ authorization: 'Bearer index-secret' });
    const elsewhere = await resolve(entry('https://cdn.example.org/web-1.2.0.tar.gz', 'watcher:http:web'));
    expect(elsewhere?.headers).toBeUndefined();
  });

  it('answers null for a release without an artifact of its own', async () => {
    const none = { ...entry('x', 'token:ci', 'webhook'), artifact: null };
    expect(await resolve(none)).toBeNull();
  });
});

describe("the app's spec on hosts", () => {
  it("carries none of what only the server uses: webhook secrets, watchers' tokens, policies", () => {
    const text = JSON.stringify(appSpecOf(config.apps.web!, 'production'));
    expect(text).not.toContain('webhook-secret');
    expect(text).not.toContain('index-secret');
    expect(text).not.toContain('ghe.example.com');
    expect(text).toContain('artifact-secret');
  });
});
