import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { useConfigDir } from './test-support/config-dir.js';

const base = `
environments: { production: {} }
apps:
  hello:
    artifact: { url: "dist/hello-{version}.tar.gz" }
    run: { command: node, args: [server.mjs] }
    listen: 8080
    sources:
`;
const { dir, parse, problems } = useConfigDir('sources-config', base);
const TOKEN = 'ghp_0123456789abcdefTOKEN';

describe('apps.<app>.sources in ferry.yaml', () => {
  it('a GitHub source with its defaults; the token read from the environment and never shown', () => {
    const config = parse(
      `      github: { repository: acme/hello, asset: "hello-*.tar.gz", token_env: GH_TOKEN, env: production }\n`,
      { GH_TOKEN: TOKEN },
    );
    const github = config.apps.hello?.sources.github;
    expect(github).toMatchObject({
      repository: 'acme/hello',
      asset: 'hello-*.tar.gz',
      checksums: 'SHA256SUMS*',
      requireChecksum: false,
      prereleases: false,
      drafts: false,
      intervalMs: 60_000,
      baseUrl: 'https://api.github.com',
      env: 'production',
    });
    expect(github?.token?.reveal()).toBe(TOKEN);
    expect(JSON.stringify(config)).not.toContain(TOKEN);
    expect(config.apps.hello?.sources.http).toBeNull();
  });

  it('a token file relative to ferry.yaml; GitHub Enterprise base URL without its trailing slash', () => {
    writeFileSync(path.join(dir, 'gh.token'), `${TOKEN}\n`);
    const github = parse(
      `      github: { repository: acme/hello, asset: "*.tgz", token_file: gh.token, base_url: "https://ghe.example.com/api/v3/" }\n`,
    ).apps.hello?.sources.github;
    expect(github?.token?.reveal()).toBe(TOKEN);
    expect(github?.baseUrl).toBe('https://ghe.example.com/api/v3');
  });

  it('an HTTP source', () => {
    const http = parse(
      `      http: { url: "https://releases.example.com/hello.json", format: latest, interval: 30s, headers: { Authorization: "Bearer x" } }\n`,
    ).apps.hello?.sources.http;
    expect(http).toMatchObject({
      url: 'https://releases.example.com/hello.json',
      format: 'latest',
      intervalMs: 30_000,
      env: null,
    });
    expect(http?.headers.get('Authorization')).toBe('Bearer x');
  });

  it('clear problems naming the path, never the token', () => {
    expect(
      problems(`      github: { repository: acme, asset: "*.tgz", interval: 1s, token_env: GH_TOKEN, token_file: x, env: staging }
      http: { url: "ftp://example.com/x.json", format: rss }
`),
    ).toEqual([
      'apps.hello.sources.github.repository: expected a GitHub repository like "owner/name", got "acme"',
      expect.stringMatching(
        /^apps\.hello\.sources\.http\.url: expected the URL of a JSON release document/,
      ) as string,
      expect.stringMatching(/^apps\.hello\.sources\.http\.format: /) as string,
    ]);
    expect(
      problems(
        `      github: { repository: acme/hello, asset: "*.tgz", interval: 1s, token_env: GH_TOKEN, env: staging }\n`,
      ),
    ).toEqual([
      'apps.hello.sources.github.interval: expected an interval of at least 10s, got 1000ms',
      'apps.hello.sources.github.token_env: expected the environment variable GH_TOKEN to be set (to a GitHub token), got it unset or empty',
      'apps.hello.sources.github.env: expected one of the declared environments (production), got "staging"',
    ]);
    expect(
      problems(`      github: { repository: acme/hello, asset: "*.tgz", token_env: A, token_file: b }\n`, {
        A: TOKEN,
      }),
    ).toEqual(['apps.hello.sources.github: expected token_env or token_file, got both']);
    const missing = problems(
      `      github: { repository: acme/hello, asset: "*.tgz", token_file: nope.token }\n`,
    );
    expect(missing).toEqual([
      expect.stringMatching(/^apps\.hello\.sources\.github\.token_file: expected a readable file/) as string,
    ]);
    expect(problems(`      github: { repository: acme/hello }\n`)).toEqual([
      expect.stringMatching(/^apps\.hello\.sources\.github\.asset: /) as string,
    ]);
  });
});
