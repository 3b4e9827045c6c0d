import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { useConfigDir } from './test-support/config-dir.js';

const base = `
apps:
  hello:
    artifact: { url: "dist/hello-{version}.tar.gz" }
    run: { command: node, args: [server.mjs] }
    listen: 8080
`;
const { dir, parse, problems } = useConfigDir('triggers');

describe('triggers in ferry.yaml', () => {
  it('no triggers: nothing listens', () => {
    expect(parse(base).triggers).toBeNull();
    expect(parse(base).apps.hello?.triggers).toEqual({ generic: null, github: null, registry: null });
  });

  it('an app with triggers: the listener with its defaults, secret files read relative to ferry.yaml', () => {
    writeFileSync(path.join(dir, 'gh.secret'), 'a-github-secret-of-some-length\n');
    const config = parse(`${base}    triggers:
      generic: { secret: "0123456789abcdef0123", env: production }
      github: { secret_file: gh.secret, repository: acme/hello }
      registry: { repository: acme/hello, token: "tok-0123456789abcdef" }
`);
    expect(config.triggers).toEqual({
      listen: { host: '0.0.0.0', port: 7080 },
      maxBodyBytes: 1024 * 1024,
      replayWindowMs: 300_000,
      rateLimit: { requests: 30, perMs: 60_000 },
    });
    expect(config.apps.hello?.triggers).toEqual({
      generic: { secret: '0123456789abcdef0123', env: 'production' },
      github: {
        secret: 'a-github-secret-of-some-length',
        repository: 'acme/hello',
        env: null,
        events: ['release'],
        prereleases: false,
        branch: null,
        workflow: null,
      },
      registry: { repository: 'acme/hello', env: null, token: 'tok-0123456789abcdef' },
    });
  });

  it('reports each problem by its path, never a secret', () => {
    const found = problems(`${base}    triggers:
      generic: { env: staging }
      github: { secret: "short", repository: "not a repo" }
      registry: { repository: acme/hello, token_file: missing.token }
`);
    expect(found).toEqual(
      expect.arrayContaining([
        'apps.hello.triggers.github.secret: expected a secret of at least 16 characters, got 5 characters',
        'apps.hello.triggers.github.repository: expected a GitHub repository like "owner/name", got "not a repo"',
      ]),
    );
    expect(found.join('\n')).not.toContain('short');
    const compiled = problems(`${base}    triggers:
      generic: { env: staging }
      registry: { repository: acme/hello, token_file: missing.token }
`);
    expect(compiled).toEqual([
      "apps.hello.triggers.generic: expected secret or secret_file (the webhook's shared secret), got neither",
      'apps.hello.triggers.generic.env: expected one of the declared environments (production), got "staging"',
      expect.stringMatching(/^apps\.hello\.triggers\.registry\.token_file: expected a readable file, got /),
    ]);
  });

  it('push needs the branch it deploys from', () => {
    expect(
      problems(`${base}    triggers:
      github: { secret: "0123456789abcdef0", repository: acme/hello, events: [push] }
`),
    ).toEqual([
      'apps.hello.triggers.github.branch: expected the branch whose pushes deploy (events has push), got none',
    ]);
  });
});
